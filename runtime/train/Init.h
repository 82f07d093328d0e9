// Weight initialization as Keras does it (glorot_uniform kernels, zero biases, uniform(-0.05,
// 0.05) embeddings...), from the initializer's name and the weight's Keras shape.
#pragma once
#include <string>

#include "tensor/Tensor.h"
#include "train/Random.h"

namespace cnnc::rt {

// fan_in/fan_out follow keras.initializers: a 2-D weight is (in, out); a convolution kernel
// (k..., in, out) multiplies both by the receptive field.
void compute_fans(const Dims& shape, double& fan_in, double& fan_out);
void initialize(Tensor& t, const std::string& initializer, Rng& rng);

}  // namespace cnnc::rt
