#include "train/Loss.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "Error.h"

namespace cnnc::rt {

static constexpr double kEps = 1e-7;  // Keras' backend epsilon

double compute_loss(const LossSpec& loss, const View& out, const View& target, float* grad, bool wrt_logits) {
    return loss.compute(out, target, grad, wrt_logits);
}

bool fuses_with(const LossSpec& loss, const std::string& activation) {
    return !loss.fused_activation.empty() && loss.fused_activation == activation;
}

double metric_sum(const Metric& m, const View& out, const View& target) { return m.sum(out, target); }

namespace {

// A batch of n samples: k outputs and tk target values per sample.
struct Batch {
    int64_t n, k, tk;
    Batch(const View& out, const View& target)
        : n(out.shape[0]), k(out.size() / std::max<int64_t>(n, 1)), tk(target.size() / std::max<int64_t>(n, 1)) {}
};

// Keras' cross-entropies need targets of the output's shape (sparse: one class id).
void check_targets(const char* loss, const Batch& b, int64_t want) {
    if (b.tk != want)
        throw UserError(std::string(loss) + ": the targets have " + std::to_string(b.tk) + " values per sample but the model outputs " +
                        std::to_string(b.k));
}

// One-hot, smoothed target row for class-index or one-hot targets.
void target_row(const CrossentropyArgs& a, bool sparse, const float* t, int64_t k, std::vector<double>& y) {
    y.assign(static_cast<size_t>(k), 0.0);
    if (sparse) {
        auto c = static_cast<int64_t>(t[0]);
        if (c < 0 || c >= k) throw UserError("label " + std::to_string(c) + " is outside the model's " + std::to_string(k) + " classes");
        y[static_cast<size_t>(c)] = 1;
    } else {
        for (int64_t j = 0; j < k; ++j) y[static_cast<size_t>(j)] = t[j];
    }
    if (a.label_smoothing > 0)
        for (auto& v : y) v = v * (1 - a.label_smoothing) + a.label_smoothing / static_cast<double>(k);
}

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

// The true class of a sample: a class id, or the arg-max of a one-hot row.
int64_t true_class(const float* t, int64_t tk) { return tk == 1 ? static_cast<int64_t>(t[0]) : std::max_element(t, t + tk) - t; }

// The sum over samples of f(sample's outputs, its targets, k, tk).
template <class F>
double per_sample(const View& out, const View& target, F f) {
    const Batch b(out, target);
    double sum = 0;
    for (int64_t i = 0; i < b.n; ++i) sum += f(out.data + i * b.k, target.data + i * b.tk, b.k, b.tk);
    return sum;
}

}  // namespace

double categorical_crossentropy(const CrossentropyArgs& a, bool sparse, const View& out, const View& target, float* grad,
                                bool wrt_logits) {
    const Batch b(out, target);
    const int64_t k = b.k;
    check_targets(sparse ? "sparse_categorical_crossentropy" : "categorical_crossentropy", b, sparse ? 1 : k);
    double total = 0;
    std::vector<double> y, p(static_cast<size_t>(k));
    const double inv_n = 1.0 / static_cast<double>(b.n);
    for (int64_t i = 0; i < b.n; ++i) {
        const float* o = out.data + i * k;
        float* g = grad ? grad + i * k : nullptr;
        target_row(a, sparse, target.data + i * b.tk, k, y);
        if (a.from_logits) {
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
    }
    return total * inv_n;
}

double binary_crossentropy(const CrossentropyArgs& a, const View& out, const View& target, float* grad, bool wrt_logits) {
    const Batch b(out, target);
    const int64_t k = b.k;
    check_targets("binary_crossentropy", b, k);
    double total = 0;
    const double inv_n = 1.0 / static_cast<double>(b.n), inv = inv_n / static_cast<double>(k);
    for (int64_t i = 0; i < b.n; ++i) {
        const float* o = out.data + i * k;
        const float* t = target.data + i * b.tk;
        float* g = grad ? grad + i * k : nullptr;
        for (int64_t j = 0; j < k; ++j) {
            double yt = t[j];
            if (a.label_smoothing > 0) yt = yt * (1 - a.label_smoothing) + 0.5 * a.label_smoothing;
            double pr;
            if (a.from_logits) {
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
    }
    return total * inv_n;
}

// The mean over the batch of each sample's sum (or, when `mean`, mean) over its broadcast values of
// term(o, t) = {value, d value / d o}.
template <class Term>
static double row_reduction(const View& out, const View& target, float* grad, bool mean, Term term) {
    const Batch bt(out, target);
    const Broadcast b(bt.k, bt.tk);
    double total = 0;
    const double inv_n = 1.0 / static_cast<double>(bt.n), w = mean ? static_cast<double>(b.width()) : 1.0, inv = inv_n / w;
    for (int64_t i = 0; i < bt.n; ++i) {
        const float* o = out.data + i * bt.k;
        const float* t = target.data + i * bt.tk;
        float* g = grad ? grad + i * bt.k : nullptr;
        if (g) std::fill(g, g + bt.k, 0.f);
        for (int64_t j = 0; j < b.width(); ++j) {
            const auto [value, slope] = term(static_cast<double>(o[b.out(j)]), static_cast<double>(t[b.target(j)]));
            total += value / w;
            if (g) g[b.out(j)] += static_cast<float>(slope * inv);
        }
    }
    return total * inv_n;
}

// The mean over the batch of each sample's mean of term(d) = {value, d value / d d}, d = o - t.
template <class Term>
static double mean_error(const View& out, const View& target, float* grad, Term term) {
    return row_reduction(out, target, grad, true, [term](double o, double t) { return term(o - t); });
}

double squared_error(const View& out, const View& target, float* grad) {
    return mean_error(out, target, grad, [](double d) { return std::pair<double, double>(d * d, 2 * d); });
}

double absolute_error(const View& out, const View& target, float* grad) {
    return mean_error(out, target, grad, [](double d) { return std::pair<double, double>(std::fabs(d), (d > 0) - (d < 0)); });
}

// keras.losses.huber: 0.5 d^2 inside delta, delta |d| - 0.5 delta^2 outside.
double huber(double delta, const View& out, const View& target, float* grad) {
    return mean_error(out, target, grad, [delta](double d) {
        return std::fabs(d) <= delta ? std::pair<double, double>(0.5 * d * d, d)
                                     : std::pair<double, double>(delta * std::fabs(d) - 0.5 * delta * delta, delta * ((d > 0) - (d < 0)));
    });
}

// keras.losses.kl_divergence: both clipped to [epsilon, 1], then sum(y log(y / p)) over the last
// axis. The clip passes no gradient outside its range.
double kl_divergence(const View& out, const View& target, float* grad) {
    return row_reduction(out, target, grad, false, [](double o, double t) {
        const double y = std::clamp(t, kEps, 1.0), p = std::clamp(o, kEps, 1.0);
        return std::pair<double, double>(y * std::log(y / p), o >= kEps && o <= 1 ? -y / p : 0.0);
    });
}

double binary_accuracy(const View& out, const View& target) {
    return per_sample(out, target, [](const float* o, const float* t, int64_t k, int64_t tk) {
        double c = 0;
        for (int64_t j = 0; j < k; ++j) c += ((o[j] > 0.5f) == (t[std::min(j, tk - 1)] > 0.5f));
        return c / static_cast<double>(k);
    });
}

double categorical_accuracy(const View& out, const View& target) {
    return per_sample(out, target, [](const float* o, const float* t, int64_t k, int64_t tk) {
        return double((std::max_element(o, o + k) - o) == true_class(t, tk));
    });
}

double sparse_categorical_accuracy(const View& out, const View& target) {
    return per_sample(out, target, [](const float* o, const float* t, int64_t k, int64_t) {
        return double((std::max_element(o, o + k) - o) == static_cast<int64_t>(t[0]));
    });
}

// keras.metrics.TopKCategoricalAccuracy's default k = 5: the label among the 5 highest scores.
double top_k_categorical_accuracy(const View& out, const View& target) {
    return per_sample(out, target, [](const float* o, const float* t, int64_t k, int64_t tk) {
        const int64_t truth = true_class(t, tk);
        int64_t higher = 0;
        for (int64_t j = 0; j < k; ++j) higher += o[j] > o[truth];
        return double(higher < 5);
    });
}

static double mean_difference(const View& out, const View& target, bool sq) {
    return per_sample(out, target, [sq](const float* o, const float* t, int64_t k, int64_t tk) {
        const Broadcast b(k, tk);
        double s = 0;
        for (int64_t j = 0; j < b.width(); ++j) {
            double d = static_cast<double>(o[b.out(j)]) - t[b.target(j)];
            s += sq ? d * d : std::fabs(d);
        }
        return s / static_cast<double>(b.width());
    });
}

double mean_squared_error(const View& out, const View& target) { return mean_difference(out, target, true); }
double mean_absolute_error(const View& out, const View& target) { return mean_difference(out, target, false); }

}  // namespace cnnc::rt
