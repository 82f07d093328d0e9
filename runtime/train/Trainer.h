// The training loop (Keras' fit/evaluate): epochs of shuffled mini-batches, the last partial batch
// included, a progress line, validation at the end of each epoch, a history of every metric. It
// runs any Network; it knows nothing about layers.
#pragma once
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "net/Network.h"
#include "train/Callbacks.h"
#include "train/History.h"
#include "train/Loss.h"
#include "train/Optimizer.h"
#include "train/Outputs.h"
#include "train/Progress.h"
#include "train/Source.h"

namespace cnnc::rt {

struct FitConfig {
    int64_t epochs = 1, initial_epoch = 0, batch_size = 32;
    bool shuffle = true;
    uint64_t seed = 0;
    std::vector<OutputLoss> outputs;  // one per model output: its loss, weight and metrics
    bool interactive = false;  // redraw the progress line in place (a terminal)
    std::FILE* out = stdout;
    std::vector<std::shared_ptr<Callback>> callbacks;
    // Resume support: the state is saved here after every epoch, at a signal (mid-epoch), and when
    // training completes (marked finished; the caller removes it when the whole run is done). With
    // `resume`, a saved state is loaded: training continues where it stopped, or, finished, is not
    // repeated. `statement` names the train statement the state belongs to: a state saved for
    // another statement, model or optimizer is refused.
    std::string state_path;
    std::string statement;
    bool resume = false;
    int64_t interrupt_after = -1;  // test hook: stop with an error after this epoch (1-based)
    // The training source streams (docs/DATA.md): the progress line shows the fraction of the epoch
    // spent waiting in fetch(), and the history records it as `data_wait`.
    bool data_wait = false;
};

struct EvalResult {
    double loss = 0;
    Metrics values;  // loss first, then the columns in order (train/Outputs.h)
};

class Trainer {
  public:
    Trainer(Network& net, Optimizer& opt, FitConfig cfg) : net_(net), opt_(opt), cfg_(std::move(cfg)) {}
    // Trains; returns one row of metrics per epoch (loss, metrics, val_ versions, lr).
    History fit(Source& train, Source* validation);
    EvalResult evaluate(Source& data, bool progress);
    // The same over samples in memory.
    History fit(const Samples& train, const Samples* validation);
    EvalResult evaluate(const Samples& data, bool progress);
    // Called after each epoch with (epoch 1-based, that epoch's metrics); return false to stop.
    std::function<bool(int64_t, const Metrics&)> on_epoch_end;

  private:
    // The batches of an epoch over samples in `order`: consecutive runs of batch_size ids, the
    // last one partial.
    std::vector<std::vector<int64_t>> batches(const std::vector<int64_t>& order) const;
    // Where training stands: an epoch boundary (step 0), a step inside an epoch with its running
    // sums (after a signal), or the end of training.
    struct Position {
        int64_t epoch = 0, step = 0, seen = 0;
        double loss_sum = 0;
        std::vector<double> metric_sums;  // per column beside the loss (column_names)
        bool finished = false;
    };
    void save_state(const Position& at, const History& h, const std::vector<Param*>& params) const;
    // Saves the state at `at` and throws Interrupted for the pending signal.
    [[noreturn]] void interrupted(const Position& at, const History& h, const std::vector<Param*>& params, const std::string& where) const;
    void check_state(const StateFile& f, const std::vector<Param*>& params) const;
    Position load_state(const StateFile& f, History& h, const std::vector<Param*>& params);
    double regularization() const;
    Network& net_;
    Optimizer& opt_;
    FitConfig cfg_;
    // Whether output k's loss takes its gradient with respect to the logits of its activation.
    std::vector<bool> fused() const;
    Batch batch_;
    std::vector<Tensor> grads_;  // per output
    int64_t step_ = 0;
};

}  // namespace cnnc::rt
