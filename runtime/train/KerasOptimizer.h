// An optimizer's state in the order Keras 3 saves it (`optimizer/vars/<i>` of a `.weights.h5`):
// the variables of keras/src/optimizers/base_optimizer.py's `variables` property, in creation
// order: `iterations` and `learning_rate` (__init__), then what the optimizer's build() adds.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/Weights.h"

namespace cnnc::rt {

class Optimizer;
struct SgdRule;
struct RMSpropRule;
struct AdamRule;
struct AdagradRule;
struct NadamRule;
struct AdamaxRule;

// What a rule's Keras optimizer creates in build(): each entry of `calls` is one
// add_optimizer_variables call, as this rule's slot indices, which Keras interleaves per trainable
// variable (base_optimizer.py, add_optimizer_variables); `after` are scalar variables build()
// creates after them (Nadam's `_u_product`).
struct KerasSlots {
    std::vector<std::vector<int>> calls;
    std::vector<float> after;
};
KerasSlots keras_slots_of(const SgdRule& r, int64_t iterations);
KerasSlots keras_slots_of(const RMSpropRule& r, int64_t iterations);
KerasSlots keras_slots_of(const AdamRule& r, int64_t iterations);
KerasSlots keras_slots_of(const AdagradRule& r, int64_t iterations);
KerasSlots keras_slots_of(const NadamRule& r, int64_t iterations);
KerasSlots keras_slots_of(const AdamaxRule& r, int64_t iterations);

// The state of `opt` for save_weights; `after` receives the scalars it points at, so it must
// outlive the result.
OptimizerVars keras_optimizer_vars(const Optimizer& opt, std::vector<Tensor>& after);

// Loads the optimizer state a Keras 3 `.weights.h5` carries (`optimizer/vars/<i>`: iterations,
// learning_rate, the slots) into `opt`, built first for `params`' trainable ones, as Keras 3's
// load_weights does into a built optimizer (saving_lib.py _load_state; base_optimizer.py
// load_own_variables). A file without optimizer variables leaves `opt` fresh. A file of another
// optimizer (its name, or a count of variables that differs) is skipped with `warning`, as Keras
// warns and skips; a slot of another shape is an error naming the file, the variable and both shapes.
struct OptimizerLoad {
    bool loaded = false;
    std::string warning;  // why the state was skipped, or what in it cnnc recomputes differently
};
OptimizerLoad load_keras_optimizer(const WeightsFile& f, const std::string& file, Optimizer& opt, const std::vector<Param*>& params);

// save_weights() of a trained model: its Keras groups and, when there is one, `opt`'s state.
void save_trained_weights(const std::string& path, const std::vector<Param*>& params, const std::vector<KerasGroup>& groups,
                          const Optimizer* opt, StagedFiles* batch = nullptr);

}  // namespace cnnc::rt
