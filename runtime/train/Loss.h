// Losses and metrics on a batch of model outputs, with Keras' definitions (probabilities clipped to
// [1e-7, 1 - 1e-7], means over the batch). Cross-entropies after a softmax or sigmoid are fused:
// their gradient is taken with respect to the logits, (p - y) / N, which is exact and stable.
#pragma once
#include <string>
#include <vector>

#include "tensor/Tensor.h"

namespace cnnc::rt {

struct LossSpec {
    std::string name;  // categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy,
                       // mean_squared_error, mean_absolute_error
    bool from_logits = false;
    double label_smoothing = 0;
};

// The mean loss over the batch. When `grad` is non-null it receives dL/d(out), or dL/d(logits)
// when `wrt_logits` (the output layer applied the softmax/sigmoid the loss expects).
double compute_loss(const LossSpec& loss, const View& out, const View& target, float* grad, bool wrt_logits);

// Whether the loss can take its gradient with respect to the logits of this output activation.
bool fuses_with(const LossSpec& loss, const std::string& activation);

struct Metric {
    std::string name;  // as the user wrote it: accuracy, acc, mse...
    std::string kind;  // resolved: binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                       // top_k_categorical_accuracy, mean_squared_error, mean_absolute_error
};
// Resolves `accuracy`/`acc` the way Keras does, from the loss and the output width.
Metric resolve_metric(const std::string& name, const LossSpec& loss, int64_t output_width);
// The metric summed over the batch's samples (divide by the sample count for the mean).
double metric_sum(const Metric& m, const View& out, const View& target);

}  // namespace cnnc::rt
