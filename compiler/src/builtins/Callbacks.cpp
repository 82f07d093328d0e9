// Callbacks, with Keras 3's arguments and defaults. Every `monitor` argument is checked against the
// metrics the training run will actually report (see sema/CheckTraining.cpp).
#include "builtins/Builtins.h"

namespace cnnc {

static ParamSpec monitor() { return optional("monitor", ArgType::Name, N("val_loss")).about("metric to watch"); }
static ParamSpec mode() { return optional("mode", ArgType::Name, N("auto")).one_of({"auto", "min", "max"}); }
static ParamSpec verbose() { return optional("verbose", ArgType::Int, I(0)).min(0).max(2); }

const std::vector<Builtin>& callbacks() {
    static const std::vector<Builtin> list = {
        {"ModelCheckpoint",
         {required("filepath", ArgType::String), monitor(), verbose(), optional("save_best_only", ArgType::Bool, B(false)),
          optional("save_weights_only", ArgType::Bool, B(false)), mode(),
          optional("save_freq", ArgType::Name, N("epoch")).one_of({"epoch"}),
          optional("initial_value_threshold", ArgType::Float, none())},
         "saves the model (atomically) after every epoch, or only when `monitor` improves",
         {}},
        {"EarlyStopping",
         {monitor(), optional("min_delta", ArgType::Float, F(0)).min(0), optional("patience", ArgType::Int, I(0)).min(0),
          verbose(), mode(), optional("baseline", ArgType::Float, none()),
          optional("restore_best_weights", ArgType::Bool, B(false)), optional("start_from_epoch", ArgType::Int, I(0)).min(0)},
         "stops training when `monitor` has not improved for `patience` epochs",
         {}},
        {"ReduceLROnPlateau",
         {monitor(), optional("factor", ArgType::Float, F(0.1)).above(0).below(1),
          optional("patience", ArgType::Int, I(10)).min(0), verbose(), mode(),
          optional("min_delta", ArgType::Float, F(1e-4)).min(0), optional("cooldown", ArgType::Int, I(0)).min(0),
          optional("min_lr", ArgType::Float, F(0)).min(0)},
         "multiplies the learning rate by `factor` when `monitor` stops improving",
         {}},
        {"CSVLogger",
         {required("filename", ArgType::String), optional("separator", ArgType::String, S(",")),
          optional("append", ArgType::Bool, B(false))},
         "writes each epoch's metrics as a CSV row",
         {}},
        {"TerminateOnNaN", {}, "stops training as soon as the loss is NaN or infinite", {}},
    };
    return list;
}

}  // namespace cnnc
