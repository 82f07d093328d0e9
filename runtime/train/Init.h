// Weight initialization as keras.initializers draws it: the formulas the initializer records
// (compiler/src/builtins/Initializers.cpp) apply, each with Keras' defaults bound by its record.
// Nothing here looks an initializer up by name.
#pragma once
#include "tensor/Tensor.h"
#include "train/Random.h"

namespace cnnc::rt {

// fan_in/fan_out follow keras.initializers: a 2-D weight is (in, out); a convolution kernel
// (k..., in, out) multiplies both by the receptive field.
void compute_fans(const Dims& shape, double& fan_in, double& fan_out);

// keras.initializers.VarianceScaling: variance = scale / fan, fan chosen by `mode`; a uniform
// draws within sqrt(3 variance), a truncated normal has stddev sqrt(variance) / 0.8796...
enum class FanMode { In, Average };  // fan_in; (fan_in + fan_out) / 2
void variance_scaling(Tensor& t, double scale, FanMode mode, bool uniform, Rng& rng);
// RandomUniform(-limit, limit), RandomNormal(0, stddev), TruncatedNormal(0, stddev): Keras'
// truncated normal redraws outside two standard deviations.
void random_uniform(Tensor& t, double limit, Rng& rng);
void random_normal(Tensor& t, double stddev, Rng& rng);
void truncated_normal(Tensor& t, double stddev, Rng& rng);
// keras.initializers.Orthogonal (gain 1); a weight of fewer than 2 dimensions is a UserError.
void orthogonal(Tensor& t, Rng& rng);

}  // namespace cnnc::rt
