// Activation functions accepted by `activation = ...` and the Activation layer (Keras names), from
// the list ir/ActivationList.def; initializers and regularizers.
#include <stdexcept>

#include "builtins/Builtins.h"

namespace cnnc {

// The entry an alias line names, which the list defines above it.
static Builtin& find_named(std::vector<Builtin>& v, const std::string& name) {
    for (Builtin& b : v)
        if (b.name == name) return b;
    throw std::logic_error("internal: ActivationList.def aliases '" + name + "' before defining it");
}

const std::vector<Builtin>& activations() {
    static const std::vector<Builtin> list = [] {
        std::vector<Builtin> v;
#define CNNC_ACTIVATION(name, doc) v.push_back({#name, {}, doc, {}});
#define CNNC_ACTIVATION_ALIAS(alias, name) find_named(v, #name).aliases.push_back(#alias);
#include "ir/ActivationList.def"
#undef CNNC_ACTIVATION
#undef CNNC_ACTIVATION_ALIAS
        return v;
    }();
    return list;
}

const std::vector<Builtin>& initializers() {
    static const std::vector<Builtin> list = {
        {"glorot_uniform", {}, "U(-l, l), l = sqrt(6 / (fan_in + fan_out)); Keras' default for kernels", {}},
        {"glorot_normal", {}, "truncated normal, stddev sqrt(2 / (fan_in + fan_out))", {}},
        {"he_uniform", {}, "U(-l, l), l = sqrt(6 / fan_in)", {}},
        {"he_normal", {}, "truncated normal, stddev sqrt(2 / fan_in)", {}},
        {"lecun_uniform", {}, "U(-l, l), l = sqrt(3 / fan_in)", {}},
        {"lecun_normal", {}, "truncated normal, stddev sqrt(1 / fan_in)", {}},
        {"zeros", {}, "all zeros; Keras' default for biases", {}},
        {"ones", {}, "all ones", {}},
        {"random_uniform", {}, "U(-0.05, 0.05); Keras' default for Embedding", {}},
        {"random_normal", {}, "N(0, 0.05)", {}},
        {"truncated_normal", {}, "N(0, 0.05) truncated at two stddevs", {}},
        {"orthogonal", {}, "a random orthogonal matrix", {}},
    };
    return list;
}

const std::vector<Builtin>& regularizers() {
    static const std::vector<Builtin> list = {
        {"l1", {optional("l1", ArgType::Float, F(0.01)).min(0)}, "l1 * sum(|w|) added to the loss", {"L1"}},
        {"l2", {optional("l2", ArgType::Float, F(0.01)).min(0)}, "l2 * sum(w^2) added to the loss", {"L2"}},
        {"l1_l2",
         {optional("l1", ArgType::Float, F(0.0)).min(0), optional("l2", ArgType::Float, F(0.0)).min(0)},
         "both penalties",
         {"L1L2"}},
    };
    return list;
}

}  // namespace cnnc
