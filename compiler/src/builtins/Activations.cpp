// Activation functions accepted by `activation = ...` and the Activation layer (Keras names). The
// engine implements each one with Keras 3's formula (kernels/Activation.cpp); a conformance test
// runs every entry (tests/unit/test_activations.cpp).
#include "builtins/Builtins.h"

namespace cnnc {

const std::vector<Builtin>& activations() {
    static const std::vector<Builtin> list = {
        {"linear", {}, "identity (the default: no activation)", {}},
        {"relu", {}, "max(x, 0)", {}},
        {"sigmoid", {}, "1 / (1 + exp(-x)); pairs with binary_crossentropy", {}},
        {"softmax", {}, "normalised exponentials over the last axis; pairs with categorical_crossentropy", {}},
        {"tanh", {}, "hyperbolic tangent", {}},
        {"elu", {}, "x if x > 0 else exp(x) - 1 (alpha 1)", {}},
        {"selu", {}, "1.0507 * (x if x > 0 else 1.6733 * (exp(x) - 1)): scaled elu", {}},
        {"softplus", {}, "log(1 + exp(x))", {}},
        {"softsign", {}, "x / (1 + |x|)", {}},
        {"swish", {}, "x * sigmoid(x)", {"silu"}},
        {"gelu", {}, "x * Phi(x), Phi the standard normal CDF (exact, via erf, as Keras' 'gelu')", {}},
        {"leaky_relu", {}, "x if x > 0 else 0.2 x", {}},
        {"relu6", {}, "min(max(x, 0), 6)", {}},
        {"hard_sigmoid", {}, "relu6(x + 3) / 6: a piecewise-linear sigmoid", {}},
        {"exponential", {}, "exp(x)", {}},
    };
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
