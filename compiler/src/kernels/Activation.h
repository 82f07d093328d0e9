// Activations in Halide, forward and backward, with Keras 3's formulas (keras/src/activations and
// its TensorFlow backend). Most derivatives are written in terms of the output y, so a layer that
// fuses its activation stores one tensor per output and the derivative costs one pass. gelu,
// swish, hard_swish and mish are not monotonic, so y does not determine their derivative: theirs
// is written in terms of the input z (activation_traits(act).needs_input), and such an activation
// runs as an Activation stage of its own, whose input is z (layers/elementwise/Op.cpp).
#pragma once
#include <Halide.h>

#include <string>

namespace cnnc::engine {

// y = act(z); `z` has `dims` dimensions, channels in dimension 0 (softmax normalises over them).
// `act` is Keras' canonical name (canonical_activation); an unknown one is a bug (logic_error).
Halide::Func activation_forward(const std::string& act, Halide::Func z, int dims, int channels);
// dL/dz from `v` and dL/dy, where `v` is the output y, or the input z when
// activation_traits(act).needs_input. When `dy_is_logits` is true at run time, dy is already dL/dz (a
// fused softmax/sigmoid cross-entropy) and passes through.
Halide::Func activation_backward(const std::string& act, Halide::Func v, Halide::Func dy, int dims, int channels,
                                 Halide::Expr dy_is_logits);

// dL/dz = act'(z) dL/dy for one value, from the activation's output `y`: for a stage that applies
// its producer's derivative to the gradient it hands back (rt::Op::output_activation). `act` must
// be elementwise and determined by y (not softmax, not needs_input: a logic_error).
Halide::Expr activation_gradient(const std::string& act, Halide::Expr y, Halide::Expr dy);

}  // namespace cnnc::engine
