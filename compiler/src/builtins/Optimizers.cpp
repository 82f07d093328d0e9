// Optimizers, with Keras 3's names and defaults (they change results, so they must match). Each
// record builds the runtime's optimizer (runtime/train/Optimizer.h) from its bound arguments.
#include "builtins/Builtins.h"

namespace cnnc {

static std::vector<ParamSpec> with_clipping(std::vector<ParamSpec> v) {
    v.push_back(optional("clipnorm", ArgType::Float, none()).above(0));
    v.push_back(optional("clipvalue", ArgType::Float, none()).above(0));
    v.push_back(optional("global_clipnorm", ArgType::Float, none()).above(0));
    return v;
}

static std::vector<ParamSpec> with_common(std::vector<ParamSpec> v) {
    v.push_back(optional("weight_decay", ArgType::Float, none()).min(0));
    return with_clipping(std::move(v));
}

static rt::OptimizerCommon common(const BoundArgs& a) {
    auto off_or = [&](const char* k) { return a.is_none(k) ? std::nullopt : std::optional<double>(a.number(k)); };
    return {a.number("learning_rate"), off_or("weight_decay"), off_or("clipnorm"), off_or("clipvalue"), off_or("global_clipnorm")};
}

static std::unique_ptr<rt::Optimizer> make_sgd(const std::string& name, const BoundArgs& a) {
    return std::make_unique<rt::Sgd>(name, common(a), rt::SgdRule{a.number("momentum"), a.flag("nesterov")});
}

static std::unique_ptr<rt::Optimizer> make_rmsprop(const std::string& name, const BoundArgs& a) {
    return std::make_unique<rt::RMSprop>(
        name, common(a), rt::RMSpropRule{a.number("rho"), a.number("momentum"), a.number("epsilon"), a.flag("centered")});
}

static std::unique_ptr<rt::Optimizer> make_adam(const std::string& name, const BoundArgs& a) {
    return std::make_unique<rt::Adam>(
        name, common(a), rt::AdamRule{a.number("beta_1"), a.number("beta_2"), a.number("epsilon"), a.flag("amsgrad")});
}

static std::unique_ptr<rt::Optimizer> make_adagrad(const std::string& name, const BoundArgs& a) {
    return std::make_unique<rt::Adagrad>(name, common(a), rt::AdagradRule{a.number("initial_accumulator_value"), a.number("epsilon")});
}

static std::unique_ptr<rt::Optimizer> make_nadam(const std::string& name, const BoundArgs& a) {
    return std::make_unique<rt::Nadam>(name, common(a), rt::NadamRule{a.number("beta_1"), a.number("beta_2"), a.number("epsilon")});
}

static std::unique_ptr<rt::Optimizer> make_adamax(const std::string& name, const BoundArgs& a) {
    return std::make_unique<rt::Adamax>(name, common(a), rt::AdamaxRule{a.number("beta_1"), a.number("beta_2"), a.number("epsilon")});
}

// Adam's arguments without amsgrad: Nadam's and Adamax's.
static std::vector<ParamSpec> moments() {
    return with_common({optional("learning_rate", ArgType::Float, F(0.001)).above(0),
                        optional("beta_1", ArgType::Float, F(0.9)).min(0).below(1),
                        optional("beta_2", ArgType::Float, F(0.999)).min(0).below(1),
                        optional("epsilon", ArgType::Float, F(1e-7)).above(0)});
}

const std::vector<OptimizerKind>& optimizers() {
    static const std::vector<OptimizerKind> list = {
        {{"sgd",
          with_common({optional("learning_rate", ArgType::Float, F(0.01)).above(0),
                       optional("momentum", ArgType::Float, F(0.0)).min(0).max(1),
                       optional("nesterov", ArgType::Bool, B(false))}),
          "stochastic gradient descent, optionally with (Nesterov) momentum",
          {"SGD"}},
         make_sgd},
        {{"rmsprop",
          with_common({optional("learning_rate", ArgType::Float, F(0.001)).above(0),
                       optional("rho", ArgType::Float, F(0.9)).min(0).below(1),
                       optional("momentum", ArgType::Float, F(0.0)).min(0).max(1),
                       optional("epsilon", ArgType::Float, F(1e-7)).above(0),
                       optional("centered", ArgType::Bool, B(false))}),
          "divides the gradient by a running average of its recent magnitude",
          {"RMSprop"}},
         make_rmsprop},
        {{"adam",
          with_common({optional("learning_rate", ArgType::Float, F(0.001)).above(0),
                       optional("beta_1", ArgType::Float, F(0.9)).min(0).below(1),
                       optional("beta_2", ArgType::Float, F(0.999)).min(0).below(1),
                       optional("epsilon", ArgType::Float, F(1e-7)).above(0),
                       optional("amsgrad", ArgType::Bool, B(false))}),
          "adaptive moment estimation",
          {"Adam"}},
         make_adam},
        {{"adamw",
          with_clipping({optional("learning_rate", ArgType::Float, F(0.001)).above(0),
                         optional("weight_decay", ArgType::Float, F(0.004)).min(0),
                         optional("beta_1", ArgType::Float, F(0.9)).min(0).below(1),
                         optional("beta_2", ArgType::Float, F(0.999)).min(0).below(1),
                         optional("epsilon", ArgType::Float, F(1e-7)).above(0), optional("amsgrad", ArgType::Bool, B(false))}),
          "Adam with decoupled weight decay",
          {"AdamW"}},
         make_adam},
        {{"adagrad",
          with_common({optional("learning_rate", ArgType::Float, F(0.001)).above(0),
                       optional("initial_accumulator_value", ArgType::Float, F(0.1)).min(0),
                       optional("epsilon", ArgType::Float, F(1e-7)).above(0)}),
          "divides each step by the root of the sum of the squared gradients so far",
          {"Adagrad"}},
         make_adagrad},
        {{"nadam", moments(), "Adam with Nesterov momentum, on Keras' momentum schedule", {"Nadam"}}, make_nadam},
        {{"adamax", moments(), "Adam with the infinity norm of the gradients in place of their second moment", {"Adamax"}},
         make_adamax},
    };
    return list;
}

}  // namespace cnnc
