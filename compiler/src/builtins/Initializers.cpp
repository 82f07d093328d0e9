// What a layer's weights start at and what they cost: initializers (kernel_initializer = ...) and
// regularizers (kernel_regularizer = ...), with Keras' names. Each initializer record draws with
// Keras' defaults through the formulas of runtime/train/Init.h.
#include "builtins/Builtins.h"
#include "train/Init.h"

namespace cnnc {

const std::vector<InitializerKind>& initializers() {
    using rt::FanMode;
    static const std::vector<InitializerKind> list = {
        {{"glorot_uniform", {}, "U(-l, l), l = sqrt(6 / (fan_in + fan_out)); Keras' default for kernels", {}},
         [](rt::Tensor& t, rt::Rng& r) { rt::variance_scaling(t, 1.0, FanMode::Average, true, r); }},
        {{"glorot_normal", {}, "truncated normal, stddev sqrt(2 / (fan_in + fan_out))", {}},
         [](rt::Tensor& t, rt::Rng& r) { rt::variance_scaling(t, 1.0, FanMode::Average, false, r); }},
        {{"he_uniform", {}, "U(-l, l), l = sqrt(6 / fan_in)", {}},
         [](rt::Tensor& t, rt::Rng& r) { rt::variance_scaling(t, 2.0, FanMode::In, true, r); }},
        {{"he_normal", {}, "truncated normal, stddev sqrt(2 / fan_in)", {}},
         [](rt::Tensor& t, rt::Rng& r) { rt::variance_scaling(t, 2.0, FanMode::In, false, r); }},
        {{"lecun_uniform", {}, "U(-l, l), l = sqrt(3 / fan_in)", {}},
         [](rt::Tensor& t, rt::Rng& r) { rt::variance_scaling(t, 1.0, FanMode::In, true, r); }},
        {{"lecun_normal", {}, "truncated normal, stddev sqrt(1 / fan_in)", {}},
         [](rt::Tensor& t, rt::Rng& r) { rt::variance_scaling(t, 1.0, FanMode::In, false, r); }},
        {{"zeros", {}, "all zeros; Keras' default for biases", {}}, [](rt::Tensor& t, rt::Rng&) { t.fill(0); }},
        {{"ones", {}, "all ones", {}}, [](rt::Tensor& t, rt::Rng&) { t.fill(1); }},
        {{"random_uniform", {}, "U(-0.05, 0.05); Keras' default for Embedding", {}},
         [](rt::Tensor& t, rt::Rng& r) { rt::random_uniform(t, 0.05, r); }},
        {{"random_normal", {}, "N(0, 0.05)", {}}, [](rt::Tensor& t, rt::Rng& r) { rt::random_normal(t, 0.05, r); }},
        {{"truncated_normal", {}, "N(0, 0.05) truncated at two stddevs", {}},
         [](rt::Tensor& t, rt::Rng& r) { rt::truncated_normal(t, 0.05, r); }},
        {{"orthogonal", {}, "a random orthogonal matrix", {}}, rt::orthogonal},
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
