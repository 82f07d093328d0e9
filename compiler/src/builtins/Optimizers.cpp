// Optimizers, with Keras 3's names and defaults (they change results, so they must match).
#include "builtins/Builtins.h"

namespace cnnc {

static std::vector<ParamSpec> with_common(std::vector<ParamSpec> v) {
    v.push_back(optional("weight_decay", ArgType::Float, none()).min(0));
    v.push_back(optional("clipnorm", ArgType::Float, none()).above(0));
    v.push_back(optional("clipvalue", ArgType::Float, none()).above(0));
    v.push_back(optional("global_clipnorm", ArgType::Float, none()).above(0));
    return v;
}

const std::vector<Builtin>& optimizers() {
    static const std::vector<Builtin> list = {
        {"sgd",
         with_common({optional("learning_rate", ArgType::Float, F(0.01)).above(0),
                      optional("momentum", ArgType::Float, F(0.0)).min(0).max(1),
                      optional("nesterov", ArgType::Bool, B(false))}),
         "stochastic gradient descent, optionally with (Nesterov) momentum",
         {"SGD"}},
        {"rmsprop",
         with_common({optional("learning_rate", ArgType::Float, F(0.001)).above(0),
                      optional("rho", ArgType::Float, F(0.9)).min(0).below(1),
                      optional("momentum", ArgType::Float, F(0.0)).min(0).max(1),
                      optional("epsilon", ArgType::Float, F(1e-7)).above(0),
                      optional("centered", ArgType::Bool, B(false))}),
         "divides the gradient by a running average of its recent magnitude",
         {"RMSprop"}},
        {"adam",
         with_common({optional("learning_rate", ArgType::Float, F(0.001)).above(0),
                      optional("beta_1", ArgType::Float, F(0.9)).min(0).below(1),
                      optional("beta_2", ArgType::Float, F(0.999)).min(0).below(1),
                      optional("epsilon", ArgType::Float, F(1e-7)).above(0),
                      optional("amsgrad", ArgType::Bool, B(false))}),
         "adaptive moment estimation",
         {"Adam"}},
        {"adamw",
         {optional("learning_rate", ArgType::Float, F(0.001)).above(0),
          optional("weight_decay", ArgType::Float, F(0.004)).min(0),
          optional("beta_1", ArgType::Float, F(0.9)).min(0).below(1),
          optional("beta_2", ArgType::Float, F(0.999)).min(0).below(1),
          optional("epsilon", ArgType::Float, F(1e-7)).above(0), optional("amsgrad", ArgType::Bool, B(false)),
          optional("clipnorm", ArgType::Float, none()).above(0), optional("clipvalue", ArgType::Float, none()).above(0),
          optional("global_clipnorm", ArgType::Float, none()).above(0)},
         "Adam with decoupled weight decay",
         {"AdamW"}},
    };
    return list;
}

}  // namespace cnnc
