// Activations in Halide, forward and backward. Backward is written in terms of the output y (not
// the pre-activation), so a layer stores one tensor per output and the derivative costs one pass.
#pragma once
#include <Halide.h>

#include <string>

namespace cnnc::engine {

// y = act(z); `z` has `dims` dimensions, channels in dimension 0 (softmax normalises over them).
Halide::Func activation_forward(const std::string& act, Halide::Func z, int dims, int channels);
// dL/dz from y and dL/dy. When `dy_is_logits` is true at run time, dy is already dL/dz (a fused
// softmax/sigmoid cross-entropy) and passes through.
Halide::Func activation_backward(const std::string& act, Halide::Func y, Halide::Func dy, int dims, int channels,
                                 Halide::Expr dy_is_logits);

}  // namespace cnnc::engine
