// The loss and metrics of a model with one or several outputs, as Keras 3's compile takes them
// (trainers/compile_utils.py): each output has its loss, a weight and its metrics; the loss the
// optimizer minimizes is Σ weight_k · loss_k, and each output's gradient is its loss's, times its
// weight. A model with one output reports `loss` and its metrics by name; one with several also
// reports `<output>_loss` (the output's own loss, unweighted, as Keras records it) and
// `<output>_<metric>`.
#pragma once
#include <string>
#include <vector>

#include "train/Loss.h"

namespace cnnc::rt {

struct OutputLoss {
    std::string name;  // the model's name for the output: the prefix of its history keys
    LossSpec loss;
    double weight = 1;
    std::string activation = "linear";  // the output's last activation (a fused loss takes its logits)
    std::vector<Metric> metrics;
};

// The values reported beside `loss`, in order: with several outputs each one's loss, then each
// one's metrics (Keras 3's keys); with one, its metrics as named.
std::vector<std::string> column_names(const std::vector<OutputLoss>& outs);
// The same from each output's name and its metrics' names (what the checker knows before a run).
std::vector<std::string> column_names(const std::vector<std::string>& outputs, const std::vector<std::vector<std::string>>& metrics);

// One batch through every output's loss: returns Σ weight_k · loss_k (each loss the mean over the
// batch) and adds the batch's column sums (losses and metrics, times the batch size for losses)
// into `sums`, in column_names' order. With `grads`, grads[k] receives weight_k · dloss_k/d(out_k),
// or with respect to output k's logits where `logits[k]`.
double batch_loss(const std::vector<OutputLoss>& outs, const std::vector<View>& out, const std::vector<View>& y,
                  std::vector<Tensor>* grads, const std::vector<bool>& logits, std::vector<double>& sums);

}  // namespace cnnc::rt
