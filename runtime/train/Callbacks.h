// Callbacks with Keras 3's semantics: ModelCheckpoint, EarlyStopping, ReduceLROnPlateau, CSVLogger,
// TerminateOnNaN.
// They see each epoch's metrics (loss, metrics, val_ versions) and may stop training, change the
// learning rate, or restore weights. The list of kinds is make_callback() in Callbacks.cpp; the
// checker (compiler/src/builtins/Callbacks.cpp) has already validated every argument and every
// `monitor` name before a run starts.
#pragma once
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/StateFile.h"
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
};

// Keras' checkpoint path template: "{epoch:02d}" (1-based) and "{val_loss:.2f}"-style metrics.
std::string format_checkpoint_path(const std::string& pattern, int64_t epoch, const Metrics& logs);

// A callback's arguments as the checker bound them: numbers (booleans as 0/1) and names/strings.
struct CallbackArgs {
    std::string kind;
    std::string output_dir;  // where relative output paths go (cnnc run --output-dir); "" is the working directory
    std::map<std::string, double> num;
    std::map<std::string, std::string> str;
    double get(const std::string& k, double def) const {
        auto it = num.find(k);
        return it == num.end() ? def : it->second;
    }
    std::string text(const std::string& k, const std::string& def) const {
        auto it = str.find(k);
        return it == str.end() ? def : it->second;
    }
};

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
    virtual std::vector<std::string> outputs() const { return {}; }
    // The counters a resumed run needs (after on_train_begin, load_state restores them).
    virtual void save_state(StateFile&, const std::string& prefix) const { (void)prefix; }
    virtual void load_state(const StateFile&, const std::string& prefix) { (void)prefix; }
};

std::unique_ptr<Callback> make_callback(const CallbackArgs& args);

// Keras' mode "auto": loss-like metrics are minimised, accuracy-like maximised.
bool minimize(const std::string& monitor, const std::string& mode);

}  // namespace cnnc::rt
