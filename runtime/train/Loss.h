// Losses and metrics on a batch of model outputs, with Keras' definitions (probabilities clipped to
// [1e-7, 1 - 1e-7], means over the batch). Cross-entropies after a softmax or sigmoid are fused:
// their gradient is taken with respect to the logits, (p - y) / N, which is exact and stable.
// The formulas take their arguments fully bound; the list that names them, with their defaults,
// is the checker's (compiler/src/builtins/Losses.cpp), whose records build a LossSpec and a Metric.
#pragma once
#include <functional>
#include <string>

#include "tensor/Tensor.h"

namespace cnnc::rt {

// The mean loss over the batch. When `grad` is non-null it receives dL/d(out), or dL/d(logits)
// when `wrt_logits` (the output layer applied the activation the loss fuses with).
using LossFn = std::function<double(const View& out, const View& target, float* grad, bool wrt_logits)>;

// A loss as the trainer applies it: a list entry's formula with its arguments.
struct LossSpec {
    std::string name;
    LossFn compute;
    // The output activation whose logits the loss can take its gradient with respect to ("": none).
    std::string fused_activation;
};

double compute_loss(const LossSpec& loss, const View& out, const View& target, float* grad, bool wrt_logits);
// Whether the loss can take its gradient with respect to the logits of this output activation.
bool fuses_with(const LossSpec& loss, const std::string& activation);

// keras.losses' formulas. The cross-entropies' arguments: from_logits, label_smoothing (0 for the
// sparse one, which Keras does not smooth).
struct CrossentropyArgs {
    bool from_logits;
    double label_smoothing;
};
double categorical_crossentropy(const CrossentropyArgs& a, bool sparse, const View& out, const View& target, float* grad,
                                bool wrt_logits);
double binary_crossentropy(const CrossentropyArgs& a, const View& out, const View& target, float* grad, bool wrt_logits);
// The mean over each sample's values of a function of the error d = out - target (broadcast as
// Keras' arithmetic does): mean_squared_error's d^2, mean_absolute_error's |d|, and huber's
// d^2 / 2 where |d| <= delta, else delta (|d| - delta / 2).
double squared_error(const View& out, const View& target, float* grad);
double absolute_error(const View& out, const View& target, float* grad);
double huber(double delta, const View& out, const View& target, float* grad);
// kl_divergence sums y log(y / p) over each sample's values, y and p clipped to [1e-7, 1].
double kl_divergence(const View& out, const View& target, float* grad);

// A metric summed over the batch's samples (divide by the sample count for the mean).
using MetricFn = double (*)(const View& out, const View& target);
struct Metric {
    std::string name;  // as the user wrote it: accuracy, acc, mse...
    MetricFn sum;      // the list entry it resolved to
};
double metric_sum(const Metric& m, const View& out, const View& target);

// keras.metrics' formulas, summed over the samples.
double binary_accuracy(const View& out, const View& target);
double categorical_accuracy(const View& out, const View& target);
double sparse_categorical_accuracy(const View& out, const View& target);
double top_k_categorical_accuracy(const View& out, const View& target);
double mean_squared_error(const View& out, const View& target);
double mean_absolute_error(const View& out, const View& target);

}  // namespace cnnc::rt
