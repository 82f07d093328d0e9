#include "train/KerasOptimizer.h"

#include <optional>

#include "train/Optimizer.h"

namespace cnnc::rt {

// Each rule's slots (Optimizer.h names them in order) against its Keras build()
// (keras/src/optimizers/<name>.py).
KerasSlots keras_slots_of(const SgdRule& r, int64_t) {  // sgd.py: momentums only when momentum != 0
    return {r.momentum != 0 ? std::vector<std::vector<int>>{{0}} : std::vector<std::vector<int>>{}, {}};
}
KerasSlots keras_slots_of(const RMSpropRule& r, int64_t) {  // rmsprop.py: velocities; momentums if momentum > 0; average_gradients if centered
    KerasSlots k{{{0}}, {}};
    if (r.momentum > 0) k.calls.push_back({2});
    if (r.centered) k.calls.push_back({1});
    return k;
}
KerasSlots keras_slots_of(const AdamRule& r, int64_t) {  // adam.py: (momentum, velocity) interleaved; velocity_hats if amsgrad
    KerasSlots k{{{0, 1}}, {}};
    if (r.amsgrad) k.calls.push_back({2});
    return k;
}
KerasSlots keras_slots_of(const AdagradRule&, int64_t) { return {{{0}}, {}}; }  // adagrad.py: accumulators
KerasSlots keras_slots_of(const NadamRule& r, int64_t iterations) {             // nadam.py: (momentum, velocity), then _u_product
    return {{{0, 1}}, {static_cast<float>(r.u_product(iterations))}};
}
KerasSlots keras_slots_of(const AdamaxRule&, int64_t) { return {{{0, 1}}, {}}; }  // adamax.py: (momentum, norm) interleaved

OptimizerVars keras_optimizer_vars(const Optimizer& opt, std::vector<Tensor>& after) {
    // Keras names an optimizer by its class (base_optimizer.py: auto_name(self.__class__.__name__),
    // utils/naming.py's to_snake_case): "RMSprop" is "rm_sprop", "AdamW" "adam_w", the rest their lower case.
    const std::string& n = opt.name();
    OptimizerVars v{n == "rmsprop" ? "rm_sprop" : n == "adamw" ? "adam_w" : n, opt.iterations, static_cast<float>(opt.learning_rate), {}};
    if (opt.slots.empty()) return v;  // never stepped: Keras' optimizer is not built yet
    const KerasSlots k = opt.keras_slots();
    for (const std::vector<int>& call : k.calls)
        for (const std::vector<Tensor>& mine : opt.slots)
            for (int s : call) v.slots.push_back(&mine.at(static_cast<size_t>(s)));
    after.clear();
    for (float x : k.after) {
        after.emplace_back(Dims{});
        after.back()[0] = x;
    }
    for (const Tensor& t : after) v.slots.push_back(&t);
    return v;
}

void save_trained_weights(const std::string& path, const std::vector<Param*>& params, const std::vector<KerasGroup>& groups,
                          const Optimizer* opt, StagedFiles* batch) {
    std::vector<Tensor> after;
    std::optional<OptimizerVars> vars;
    if (opt) vars = keras_optimizer_vars(*opt, after);
    save_weights(path, params, batch, {groups, vars ? &*vars : nullptr});
}

}  // namespace cnnc::rt
