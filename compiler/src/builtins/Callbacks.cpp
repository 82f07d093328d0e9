// Callbacks, with Keras 3's arguments and defaults. Every `monitor` argument is checked against the
// metrics the training run will actually report (see sema/CheckTraining.cpp). Each record builds
// the runtime's callback (runtime/train/Callbacks.h) from its bound arguments.
#include "builtins/Builtins.h"

namespace cnnc {

static ParamSpec monitor() { return optional("monitor", ArgType::Name, N("val_loss")).about("metric to watch"); }
static ParamSpec mode() { return optional("mode", ArgType::Name, N("auto")).one_of({"auto", "min", "max"}); }
static ParamSpec verbose() { return optional("verbose", ArgType::Int, I(0)).min(0).max(2); }

static std::optional<double> unless_none(const BoundArgs& a, const std::string& k) {
    return a.is_none(k) ? std::nullopt : std::optional<double>(a.number(k));
}
static rt::MonitorArgs monitor_args(const BoundArgs& a) { return {a.text("monitor"), a.text("mode"), a.number("min_delta")}; }

static std::unique_ptr<rt::Callback> make_checkpoint(const BoundArgs& a, const std::string& output_dir) {
    return rt::model_checkpoint({a.text("filepath"), output_dir, a.text("monitor"), a.text("mode"), a.flag("save_best_only"),
                                 a.integer("verbose") > 0, unless_none(a, "initial_value_threshold")});
}

static std::unique_ptr<rt::Callback> make_early_stopping(const BoundArgs& a, const std::string&) {
    return rt::early_stopping({monitor_args(a), a.integer("patience"), a.integer("verbose") > 0, a.flag("restore_best_weights"),
                               a.integer("start_from_epoch"), unless_none(a, "baseline")});
}

static std::unique_ptr<rt::Callback> make_reduce_lr(const BoundArgs& a, const std::string&) {
    return rt::reduce_lr_on_plateau({monitor_args(a), a.number("factor"), a.integer("patience"), a.integer("verbose") > 0,
                                     a.integer("cooldown"), a.number("min_lr")});
}

static std::unique_ptr<rt::Callback> make_csv_logger(const BoundArgs& a, const std::string& output_dir) {
    return rt::csv_logger({a.text("filename"), output_dir, a.text("separator"), a.flag("append")});
}

static std::unique_ptr<rt::Callback> make_terminate_on_nan(const BoundArgs&, const std::string&) { return rt::terminate_on_nan(); }

const std::vector<CallbackKind>& callbacks() {
    static const std::vector<CallbackKind> list = {
        {{"ModelCheckpoint",
          {required("filepath", ArgType::String), monitor(), verbose(), optional("save_best_only", ArgType::Bool, B(false)),
           optional("save_weights_only", ArgType::Bool, B(false)), mode(),
           optional("save_freq", ArgType::Name, N("epoch")).one_of({"epoch"}),
           optional("initial_value_threshold", ArgType::Float, none())},
          "saves the model (atomically) after every epoch, or only when `monitor` improves",
          {}},
         make_checkpoint},
        {{"EarlyStopping",
          {monitor(), optional("min_delta", ArgType::Float, F(0)).min(0), optional("patience", ArgType::Int, I(0)).min(0),
           verbose(), mode(), optional("baseline", ArgType::Float, none()),
           optional("restore_best_weights", ArgType::Bool, B(false)), optional("start_from_epoch", ArgType::Int, I(0)).min(0)},
          "stops training when `monitor` has not improved for `patience` epochs",
          {}},
         make_early_stopping},
        {{"ReduceLROnPlateau",
          {monitor(), optional("factor", ArgType::Float, F(0.1)).above(0).below(1),
           optional("patience", ArgType::Int, I(10)).min(0), verbose(), mode(),
           optional("min_delta", ArgType::Float, F(1e-4)).min(0), optional("cooldown", ArgType::Int, I(0)).min(0),
           optional("min_lr", ArgType::Float, F(0)).min(0)},
          "multiplies the learning rate by `factor` when `monitor` stops improving",
          {}},
         make_reduce_lr},
        {{"CSVLogger",
          {required("filename", ArgType::String), optional("separator", ArgType::String, S(",")),
           optional("append", ArgType::Bool, B(false))},
          "writes each epoch's metrics as a CSV row",
          {}},
         make_csv_logger},
        {{"TerminateOnNaN", {}, "stops training as soon as the loss is NaN or infinite", {}}, make_terminate_on_nan},
    };
    return list;
}

}  // namespace cnnc
