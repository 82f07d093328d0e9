// Optimizers with Keras 3's update rules. Each one takes its arguments fully bound: the defaults
// are written once, in the checker's list (compiler/src/builtins/Optimizers.cpp), whose records
// build these classes. State (moments, step count, learning rate) is exposed so checkpoints can
// save and restore it exactly.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "net/Op.h"
#include "train/KerasOptimizer.h"

namespace cnnc::rt {

// The arguments of keras.optimizers.Optimizer itself; an absent one is off.
struct OptimizerCommon {
    double learning_rate;
    std::optional<double> weight_decay, clipnorm, clipvalue, global_clipnorm;
};

class Optimizer {
  public:
    virtual ~Optimizer() = default;
    // Applies one update to every trainable param from its grad (regularizer penalties included).
    void step(const std::vector<Param*>& params);
    // Creates the slots of `params`' trainable ones, unless they exist (Keras' optimizer.build():
    // the first step does it, and loading a saved state into the optimizer needs it first); returns
    // those params.
    std::vector<Param*> build(const std::vector<Param*>& params);
    double learning_rate;
    int64_t iterations = 0;
    // Per-param slots: [param index][slot] (momentum, velocity...).
    std::vector<std::vector<Tensor>> slots;
    // The list's name (sgd, adam...): a training state records it, and a resume refuses the state
    // of another optimizer.
    const std::string& name() const { return name_; }
    // The slots Keras' optimizer of this rule has, in its order (train/KerasOptimizer.h).
    virtual KerasSlots keras_slots() const = 0;

  protected:
    // Each variable gets `slots_per_param` slots, filled with `slot_init`.
    Optimizer(std::string name, const OptimizerCommon& common, int slots_per_param, double slot_init);
    // The update rule of keras/src/optimizers/<name>.py on `n` weights of one variable, from their
    // clipped gradients; `slots` are the variable's, `t` the 1-based step. Computed in double.
    virtual void update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) const = 0;

  private:
    void clip(const std::vector<Param*>& params) const;
    std::string name_;
    OptimizerCommon common_;
    int slots_per_param_;
    double slot_init_;
};

// The update rules: each one's arguments, kSlots (its slots per variable), and update(), the
// Optimizer::update of an optimizer of this rule (Optimizer.cpp).

// keras.optimizers.SGD; slot: momentum.
struct SgdRule {
    static constexpr int kSlots = 1;
    double momentum;
    bool nesterov;
    void update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) const;
};
// keras.optimizers.RMSprop; slots: velocity, average_gradient, momentum.
struct RMSpropRule {
    static constexpr int kSlots = 3;
    double rho, momentum, epsilon;
    bool centered;
    void update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) const;
};
// keras.optimizers.Adam, and AdamW (Adam with a weight decay by default); slots: momentum,
// velocity, velocity_hat.
struct AdamRule {
    static constexpr int kSlots = 3;
    double beta_1, beta_2, epsilon;
    bool amsgrad;
    void update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) const;
};
// keras.optimizers.Adagrad; slot: accumulator, starting at initial_accumulator_value.
struct AdagradRule {
    static constexpr int kSlots = 1;
    double initial_accumulator_value, epsilon;
    void update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) const;
};

// keras.optimizers.Nadam; slots: momentum, velocity. Its momentum schedule u_s = beta_1 (1 - 0.5 *
// 0.96^s) enters through the running product u_1 ... u_t, which depends on the step alone: it is
// recomputed from t (so a resumed run has it without a slot) and kept from one step to the next.
struct NadamRule {
    static constexpr int kSlots = 2;
    double beta_1, beta_2, epsilon;
    void update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) const;
    // u_s, and the product u_1 ... u_t.
    double u(int64_t s) const;
    double u_product(int64_t t) const;
    mutable int64_t product_step = 0;  // the product below is u_1 ... u_product_step
    mutable double product = 1;
};
// keras.optimizers.Adamax; slots: momentum, norm (the exponentially weighted infinity norm).
struct AdamaxRule {
    static constexpr int kSlots = 2;
    double beta_1, beta_2, epsilon;
    void update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) const;
};

// What a rule's slots start at: 0, unless the rule says otherwise.
template <class Rule>
double initial_slot_value(const Rule&) {
    return 0;
}
inline double initial_slot_value(const AdagradRule& r) { return r.initial_accumulator_value; }

// The optimizer of update rule `Rule`.
template <class Rule>
class RuleOptimizer final : public Optimizer {
  public:
    RuleOptimizer(std::string name, const OptimizerCommon& common, const Rule& rule)
        : Optimizer(std::move(name), common, Rule::kSlots, initial_slot_value(rule)), rule_(rule) {}
    KerasSlots keras_slots() const override { return keras_slots_of(rule_, iterations); }

  private:
    void update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) const override {
        rule_.update(w, g, n, slots, lr, t);
    }
    Rule rule_;
};

using Sgd = RuleOptimizer<SgdRule>;
using RMSprop = RuleOptimizer<RMSpropRule>;
using Adam = RuleOptimizer<AdamRule>;
using Adagrad = RuleOptimizer<AdagradRule>;
using Nadam = RuleOptimizer<NadamRule>;
using Adamax = RuleOptimizer<AdamaxRule>;

}  // namespace cnnc::rt
