#include "train/Loss.h"

#include <algorithm>
#include <cmath>

#include "Error.h"

namespace cnnc::rt {

static constexpr double kEps = 1e-7;  // Keras' backend epsilon

bool fuses_with(const LossSpec& loss, const std::string& activation) {
    if (loss.from_logits) return false;
    if (loss.name == "categorical_crossentropy" || loss.name == "sparse_categorical_crossentropy")
        return activation == "softmax";
    if (loss.name == "binary_crossentropy") return activation == "sigmoid";
    return false;
}

// One-hot, smoothed target row for class-index or one-hot targets.
static void target_row(const LossSpec& loss, const float* t, int64_t k, std::vector<double>& y) {
    y.assign(static_cast<size_t>(k), 0.0);
    if (loss.name == "sparse_categorical_crossentropy") {
        auto c = static_cast<int64_t>(t[0]);
        if (c < 0 || c >= k) throw UserError("label " + std::to_string(c) + " is outside the model's " + std::to_string(k) + " classes");
        y[static_cast<size_t>(c)] = 1;
    } else {
        for (int64_t j = 0; j < k; ++j) y[static_cast<size_t>(j)] = t[j];
    }
    if (loss.label_smoothing > 0)
        for (auto& v : y) v = v * (1 - loss.label_smoothing) + loss.label_smoothing / static_cast<double>(k);
}

namespace {

// mse/mae compare a target row of width tk with an output row of width k as Keras' arithmetic
// broadcasts them: equal widths element by element, or a width of 1 against every element.
struct Broadcast {
    int64_t k, tk;
    Broadcast(int64_t k_, int64_t tk_) : k(k_), tk(tk_) {
        if (k != tk && k != 1 && tk != 1)
            throw UserError("targets of " + std::to_string(tk) + " values per sample cannot be compared with " + std::to_string(k) + " outputs");
    }
    int64_t width() const { return std::max(k, tk); }
    int64_t out(int64_t j) const { return k == 1 ? 0 : j; }
    int64_t target(int64_t j) const { return tk == 1 ? 0 : j; }
};

}  // namespace

double compute_loss(const LossSpec& loss, const View& out, const View& target, float* grad, bool wrt_logits) {
    int64_t n = out.shape[0];
    int64_t k = out.size() / std::max<int64_t>(n, 1);
    int64_t tk = target.size() / std::max<int64_t>(n, 1);
    // Keras' cross-entropies need targets of the output's shape (sparse: one class id).
    const bool sparse = loss.name == "sparse_categorical_crossentropy";
    if ((loss.name == "categorical_crossentropy" || loss.name == "binary_crossentropy" || sparse) && tk != (sparse ? 1 : k))
        throw UserError(loss.name + ": the targets have " + std::to_string(tk) + " values per sample but the model outputs " + std::to_string(k));
    double total = 0;
    std::vector<double> y, p(static_cast<size_t>(k));
    const double inv_n = 1.0 / static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i) {
        const float* o = out.data + i * k;
        const float* t = target.data + i * tk;
        float* g = grad ? grad + i * k : nullptr;
        if (loss.name == "categorical_crossentropy" || loss.name == "sparse_categorical_crossentropy") {
            target_row(loss, t, k, y);
            if (loss.from_logits) {
                // log-softmax of the logits, stable.
                double m = *std::max_element(o, o + k), s = 0;
                for (int64_t j = 0; j < k; ++j) s += std::exp(o[j] - m);
                double lse = m + std::log(s);
                for (int64_t j = 0; j < k; ++j) {
                    total -= y[static_cast<size_t>(j)] * (o[j] - lse);
                    if (g) g[j] = static_cast<float>((std::exp(o[j] - lse) - y[static_cast<size_t>(j)]) * inv_n);
                }
            } else {
                double s = 0;
                for (int64_t j = 0; j < k; ++j) s += o[j];
                for (int64_t j = 0; j < k; ++j) {
                    p[static_cast<size_t>(j)] = std::clamp(o[j] / s, kEps, 1 - kEps);
                    total -= y[static_cast<size_t>(j)] * std::log(p[static_cast<size_t>(j)]);
                }
                if (g)
                    for (int64_t j = 0; j < k; ++j)
                        g[j] = static_cast<float>(wrt_logits ? (o[j] - y[static_cast<size_t>(j)]) * inv_n
                                                             : -y[static_cast<size_t>(j)] / p[static_cast<size_t>(j)] * inv_n);
            }
        } else if (loss.name == "binary_crossentropy") {
            const double inv = inv_n / static_cast<double>(k);
            for (int64_t j = 0; j < k; ++j) {
                double yt = t[j];
                if (loss.label_smoothing > 0) yt = yt * (1 - loss.label_smoothing) + 0.5 * loss.label_smoothing;
                double pr;
                if (loss.from_logits) {
                    double z = o[j];
                    // max(z, 0) - z*y + log(1 + exp(-|z|)): no overflow for any z.
                    total += (std::max(z, 0.0) - z * yt + std::log1p(std::exp(-std::fabs(z)))) / static_cast<double>(k);
                    pr = 1 / (1 + std::exp(-z));
                    if (g) g[j] = static_cast<float>((pr - yt) * inv);
                } else {
                    pr = std::clamp(static_cast<double>(o[j]), kEps, 1 - kEps);
                    total -= (yt * std::log(pr) + (1 - yt) * std::log(1 - pr)) / static_cast<double>(k);
                    if (g) g[j] = static_cast<float>(wrt_logits ? (o[j] - yt) * inv : (pr - yt) / (pr * (1 - pr)) * inv);
                }
            }
        } else if (loss.name == "mean_squared_error" || loss.name == "mean_absolute_error") {
            const bool sq = loss.name == "mean_squared_error";
            const Broadcast b(k, tk);
            const double w = static_cast<double>(b.width()), inv = inv_n / w;
            if (g) std::fill(g, g + k, 0.f);
            for (int64_t j = 0; j < b.width(); ++j) {
                double d = static_cast<double>(o[b.out(j)]) - t[b.target(j)];
                total += (sq ? d * d : std::fabs(d)) / w;
                if (g) g[b.out(j)] += static_cast<float>((sq ? 2 * d : (d > 0) - (d < 0)) * inv);
            }
        } else {
            throw UserError("loss '" + loss.name + "' is not supported by the runtime");
        }
    }
    return total * inv_n;
}

Metric resolve_metric(const std::string& name, const LossSpec& loss, int64_t width) {
    Metric m{name, name};
    if (name == "accuracy" || name == "acc") {
        if (loss.name == "binary_crossentropy" || width == 1) m.kind = "binary_accuracy";
        else if (loss.name == "sparse_categorical_crossentropy") m.kind = "sparse_categorical_accuracy";
        else m.kind = "categorical_accuracy";
    } else if (name == "mse") {
        m.kind = "mean_squared_error";
    } else if (name == "mae") {
        m.kind = "mean_absolute_error";
    }
    return m;
}

double metric_sum(const Metric& m, const View& out, const View& target) {
    int64_t n = out.shape[0];
    int64_t k = out.size() / std::max<int64_t>(n, 1);
    int64_t tk = target.size() / std::max<int64_t>(n, 1);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        const float* o = out.data + i * k;
        const float* t = target.data + i * tk;
        if (m.kind == "binary_accuracy") {
            double c = 0;
            for (int64_t j = 0; j < k; ++j) c += ((o[j] > 0.5f) == (t[std::min(j, tk - 1)] > 0.5f));
            sum += c / static_cast<double>(k);
        } else if (m.kind == "categorical_accuracy" || m.kind == "sparse_categorical_accuracy") {
            int64_t pred = std::max_element(o, o + k) - o;
            int64_t truth = m.kind == "sparse_categorical_accuracy" || tk == 1 ? static_cast<int64_t>(t[0])
                                                                               : std::max_element(t, t + tk) - t;
            sum += pred == truth;
        } else if (m.kind == "top_k_categorical_accuracy") {
            int64_t truth = tk == 1 ? static_cast<int64_t>(t[0]) : std::max_element(t, t + tk) - t;
            int64_t higher = 0;
            for (int64_t j = 0; j < k; ++j) higher += o[j] > o[truth];
            sum += higher < 5;
        } else if (m.kind == "mean_squared_error" || m.kind == "mean_absolute_error") {
            const Broadcast b(k, tk);
            double s = 0;
            for (int64_t j = 0; j < b.width(); ++j) {
                double d = static_cast<double>(o[b.out(j)]) - t[b.target(j)];
                s += m.kind == "mean_squared_error" ? d * d : std::fabs(d);
            }
            sum += s / static_cast<double>(b.width());
        } else {
            throw UserError("metric '" + m.name + "' is not supported by the runtime");
        }
    }
    return sum;
}

}  // namespace cnnc::rt
