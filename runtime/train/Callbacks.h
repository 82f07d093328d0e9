// Callbacks with Keras 3's semantics: ModelCheckpoint, EarlyStopping, ReduceLROnPlateau, CSVLogger,
// TerminateOnNaN.
// They see each epoch's metrics (loss, metrics, val_ versions) and may stop training, change the
// learning rate, or restore weights. Each is built from its arguments fully bound: the list of
// kinds, with their defaults, is the checker's (compiler/src/builtins/Callbacks.cpp), which has
// validated every argument and every `monitor` name before a run starts.
#pragma once
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/StateFile.h"
#include "net/KerasGroup.h"
#include "net/Op.h"
#include "train/Optimizer.h"
#include "train/Progress.h"

namespace cnnc::rt {

// What a callback may look at and change.
struct TrainState {
    Optimizer* optimizer = nullptr;
    std::vector<Param*> params;
    std::FILE* out = stdout;
    bool stop = false;
    const std::vector<KerasGroup>* keras_groups = nullptr;  // the network's, so a checkpoint has every Keras group
};

// Keras' checkpoint path template: "{epoch:02d}" (1-based) and "{val_loss:.2f}"-style metrics.
std::string format_checkpoint_path(const std::string& pattern, int64_t epoch, const Metrics& logs);

// A file a callback wrote: `what` labels it in the list printed after training ("Checkpoint").
struct Output {
    std::string what, path;
};

// Where a callback's relative path goes: under `output_dir` (cnnc run --output-dir), with the run's
// other outputs; an absolute path, or an empty or "." directory, leaves `path` as it is.
std::string under_output_dir(const std::string& output_dir, const std::string& path);

class Callback {
  public:
    virtual ~Callback() = default;
    virtual void on_train_begin(TrainState&) {}
    // `epoch` is 0-based, as Keras passes it; `logs` holds the epoch's metrics.
    virtual void on_epoch_end(int64_t epoch, const Metrics& logs, TrainState& state) = 0;
    virtual void on_train_end(TrainState&) {}
    // True when the learning rate may change during training (the progress line then shows it).
    virtual bool schedules_lr() const { return false; }
    // The files it wrote, for the list of outputs printed after training.
    virtual std::vector<Output> outputs() const { return {}; }
    // The counters a resumed run needs (after on_train_begin, load_state restores them).
    virtual void save_state(StateFile&, const std::string& prefix) const { (void)prefix; }
    virtual void load_state(const StateFile&, const std::string& prefix) { (void)prefix; }
};

// keras.callbacks.MonitorCallback's arguments.
struct MonitorArgs {
    std::string monitor, mode;
    double min_delta;
};

struct ModelCheckpointArgs {
    std::string filepath;    // a template: format_checkpoint_path
    std::string output_dir;  // where a relative filepath goes (cnnc run --output-dir); "" is the working directory
    std::string monitor, mode;
    bool save_best_only, verbose;
    std::optional<double> initial_value_threshold;
};
struct EarlyStoppingArgs {
    MonitorArgs monitor;
    int64_t patience;
    bool verbose, restore_best_weights;
    int64_t start_from_epoch;
    std::optional<double> baseline;
};
struct ReduceLROnPlateauArgs {
    MonitorArgs monitor;
    double factor;
    int64_t patience;
    bool verbose;
    int64_t cooldown;
    double min_lr;
};
struct CSVLoggerArgs {
    std::string filename;
    std::string output_dir;  // where a relative filename goes, as ModelCheckpointArgs::output_dir
    std::string separator;
    bool append;
};

std::unique_ptr<Callback> model_checkpoint(const ModelCheckpointArgs& args);
std::unique_ptr<Callback> early_stopping(const EarlyStoppingArgs& args);
std::unique_ptr<Callback> reduce_lr_on_plateau(const ReduceLROnPlateauArgs& args);
std::unique_ptr<Callback> csv_logger(const CSVLoggerArgs& args);
std::unique_ptr<Callback> terminate_on_nan();

// Keras' mode "auto": loss-like metrics are minimised, accuracy-like maximised.
bool minimize(const std::string& monitor, const std::string& mode);

}  // namespace cnnc::rt
