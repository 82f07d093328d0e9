#include "train/Outputs.h"

namespace cnnc::rt {

std::vector<std::string> column_names(const std::vector<std::string>& outputs, const std::vector<std::vector<std::string>>& metrics) {
    if (outputs.size() == 1) return metrics[0];
    std::vector<std::string> v;
    for (const std::string& o : outputs) v.push_back(o + "_loss");
    for (size_t k = 0; k < outputs.size(); ++k)
        for (const std::string& m : metrics[k]) v.push_back(outputs[k] + "_" + m);
    return v;
}

std::vector<std::string> column_names(const std::vector<OutputLoss>& outs) {
    std::vector<std::string> names;
    std::vector<std::vector<std::string>> metrics;
    for (const OutputLoss& o : outs) {
        names.push_back(o.name);
        metrics.emplace_back();
        for (const Metric& m : o.metrics) metrics.back().push_back(m.name);
    }
    return column_names(names, metrics);
}

double batch_loss(const std::vector<OutputLoss>& outs, const std::vector<View>& out, const std::vector<View>& y,
                  std::vector<Tensor>* grads, const std::vector<bool>& logits, std::vector<double>& sums) {
    const bool several = outs.size() > 1;
    const double b = out.empty() ? 0 : static_cast<double>(out[0].shape[0]);
    double total = 0;
    size_t col = 0;
    for (size_t k = 0; k < outs.size(); ++k) {
        float* g = nullptr;
        if (grads) {
            (*grads)[k].resize(out[k].shape);
            g = (*grads)[k].data();
        }
        const double loss = compute_loss(outs[k].loss, out[k], y[k], g, grads && logits[k]);
        // A weight of 1 leaves the loss and its gradient as they are: a single output's numbers are
        // exactly those of a model compiled with one loss.
        if (outs[k].weight != 1 && g) {
            const float w = static_cast<float>(outs[k].weight);
            for (int64_t i = 0; i < (*grads)[k].size(); ++i) g[i] *= w;
        }
        total += outs[k].weight == 1 ? loss : outs[k].weight * loss;
        if (several) sums[col++] += loss * b;
    }
    for (size_t k = 0; k < outs.size(); ++k)
        for (const Metric& m : outs[k].metrics) sums[col++] += metric_sum(m, out[k], y[k]);
    return total;
}

}  // namespace cnnc::rt
