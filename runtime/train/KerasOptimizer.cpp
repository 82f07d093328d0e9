#include "train/KerasOptimizer.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "Error.h"
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

// Keras names an optimizer by its class (base_optimizer.py: auto_name(self.__class__.__name__),
// utils/naming.py's to_snake_case): "RMSprop" is "rm_sprop", "AdamW" "adam_w", the rest their lower case.
static std::string keras_name(const Optimizer& opt) {
    const std::string& n = opt.name();
    return n == "rmsprop" ? "rm_sprop" : n == "adamw" ? "adam_w" : n;
}

// The slots of a built `opt` in Keras' order, as (variable, slot) indices into opt.slots.
static std::vector<std::pair<size_t, int>> keras_slot_order(const Optimizer& opt, const KerasSlots& k) {
    std::vector<std::pair<size_t, int>> out;
    for (const std::vector<int>& call : k.calls)
        for (size_t i = 0; i < opt.slots.size(); ++i)
            for (int s : call) out.emplace_back(i, s);
    return out;
}

OptimizerVars keras_optimizer_vars(const Optimizer& opt, std::vector<Tensor>& after) {
    OptimizerVars v{keras_name(opt), opt.iterations, static_cast<float>(opt.learning_rate), {}};
    if (opt.slots.empty()) return v;  // never stepped: Keras' optimizer is not built yet
    const KerasSlots k = opt.keras_slots();
    for (const auto& [i, s] : keras_slot_order(opt, k)) v.slots.push_back(&opt.slots[i].at(static_cast<size_t>(s)));
    after.clear();
    for (float x : k.after) {
        after.emplace_back(Dims{});
        after.back()[0] = x;
    }
    for (const Tensor& t : after) v.slots.push_back(&t);
    return v;
}

OptimizerLoad load_keras_optimizer(const WeightsFile& f, const std::string& file, Optimizer& opt, const std::vector<Param*>& params) {
    const std::string prefix = "optimizer/vars/";
    size_t saved = 0;
    while (f.by_path.count(prefix + std::to_string(saved))) ++saved;
    if (saved == 0) return {};  // no optimizer group (Keras 2's layout, or weights saved before training): fresh slots
    const std::string name = keras_name(opt);
    const std::string skipped = "; training starts from a fresh optimizer state, as Keras skips the optimizer's variables then";
    // Keras compares the count alone; the name (Keras >= 3.6) also tells optimizers of one count apart (Adam, Adamax).
    if (!f.optimizer_name.empty() && f.optimizer_name != name)
        return {false, file + ": the saved optimizer is '" + f.optimizer_name + "', the statement trains with '" + name + "'" + skipped};
    const std::vector<Param*> trainable = opt.build(params);
    const KerasSlots k = opt.keras_slots();
    const std::vector<std::pair<size_t, int>> order = keras_slot_order(opt, k);
    const size_t mine = 2 + order.size() + k.after.size();
    if (saved != mine)  // base_optimizer.py load_own_variables (master L759-771)
        return {false, file + ": optimizer '" + name + "' has " + std::to_string(mine) + " variables, the saved optimizer has " +
                           std::to_string(saved) + skipped};
    auto at = [&](size_t i) -> const StoredArray& { return f.by_path.at(prefix + std::to_string(i)); };
    const std::string what = "optimizer '" + name + "' variable ";
    // Every shape first, so a mismatch leaves the optimizer as it was (Keras' variable.assign refuses it).
    if (!at(1).shape().empty() && at(1).shape() != Dims{1})
        throw UserError(file + ": weight '" + prefix + "1' has shape " + dims_str(at(1).shape()) + " in the file, but " + what +
                        "learning_rate is a scalar");
    for (size_t j = 0; j < order.size(); ++j) {
        const Tensor& slot = opt.slots[order[j].first][static_cast<size_t>(order[j].second)];
        if (at(2 + j).shape() != slot.shape())
            throw UserError(file + ": weight '" + prefix + std::to_string(2 + j) + "' has shape " + dims_str(at(2 + j).shape()) +
                            " in the file, but " + what + std::to_string(2 + j) + " (a slot of " + trainable[order[j].first]->name +
                            ") is " + dims_str(slot.shape()));
    }
    const int64_t iterations = at(0).read_integer(what + "0 (iterations)");
    if (iterations < 0) throw UserError(file + ": weight '" + prefix + "0' holds " + std::to_string(iterations) + " iterations");
    Tensor lr(at(1).shape());
    at(1).read_into(lr, what + "1 (learning_rate)");
    for (size_t j = 0; j < order.size(); ++j)
        at(2 + j).read_into(opt.slots[order[j].first][static_cast<size_t>(order[j].second)], what + std::to_string(2 + j));
    opt.iterations = iterations;
    // Keras assigns the saved rate too. It is float32 there: the statement's own rate, when it is the
    // same number at that precision, is kept, so a resumed training computes exactly as one that ran on.
    if (static_cast<float>(opt.learning_rate) != lr[0]) opt.learning_rate = lr[0];
    // The scalars after the slots (Nadam's u_product) follow from `iterations`: cnnc recomputes them.
    const KerasSlots now = opt.keras_slots();
    for (size_t j = 0; j < now.after.size(); ++j) {
        const size_t i = 2 + order.size() + j;
        Tensor t(at(i).shape());
        if (t.size() != 1) throw UserError(file + ": weight '" + prefix + std::to_string(i) + "' has shape " + dims_str(t.shape()) + ", not a scalar");
        at(i).read_into(t, what + std::to_string(i));
        if (std::abs(t[0] - now.after[j]) > 1e-6 * std::max(1.f, std::abs(now.after[j])))
            return {true, file + ": optimizer variable " + std::to_string(i) + " is " + std::to_string(t[0]) + ", but " +
                                std::to_string(now.after[j]) + " after " + std::to_string(iterations) + " steps; cnnc computes it from the step count"};
    }
    return {true, ""};
}

void save_trained_weights(const std::string& path, const std::vector<Param*>& params, const std::vector<KerasGroup>& groups,
                          const Optimizer* opt, StagedFiles* batch) {
    std::vector<Tensor> after;
    std::optional<OptimizerVars> vars;
    if (opt) vars = keras_optimizer_vars(*opt, after);
    save_weights(path, params, batch, {groups, vars ? &*vars : nullptr});
}

}  // namespace cnnc::rt
