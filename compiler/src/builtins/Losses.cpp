// Losses. Each says which outputs it fits, so `binary_crossentropy` on a 10-way softmax is a
// compile-time error instead of a silently meaningless training run.
#include <fmt/format.h>

#include <cmath>

#include "builtins/Builtins.h"
#include "ir/Activation.h"

namespace cnnc {

// Probabilistic losses need the output activation that produces what they expect (or raw scores
// with from_logits = true).
static std::string needs(const std::string& loss, const std::string& want, const std::string& act, bool from_logits) {
    if (from_logits) {
        if (activation_traits(act).probabilities)
            return fmt::format("{} with from_logits = true expects raw scores, but the last layer already applies {}", loss, act);
        return "";
    }
    if (act == want) return "";
    if (act == "linear")
        return fmt::format("{} expects probabilities from a {} output, but the last layer has no activation "
                           "(add activation = {}, or pass from_logits = true)",
                           loss, want, want);
    return fmt::format("{} expects a {} output, but the last layer applies {}", loss, want, act);
}

static std::string categorical(const std::string& loss, const Shape& out, const std::string& act, const BoundArgs& a) {
    if (out.rank() < 1 || out.back() < 2)
        return fmt::format("{} needs at least 2 classes on the last axis, but the model outputs {}", loss, out);
    return needs(loss, "softmax", act, a.flag("from_logits"));
}

// Keras' label shapes: one_hot(k) rows are (N, k); int labels (N,) and binary ones (N, 1), as
// image_dataset_from_directory's label modes give them. A loss first squeezes or expands a trailing
// 1 to match ranks (squeeze_or_expand_to_same_rank); then the cross-entropies need equal shapes
// (sparse: class ids of shape output[:-1]) and mse/mae broadcast. Labels come one per sample, so
// the output must be a vector per sample.
static std::string describe(const LabelUse& u) {
    return u.encoding == "one_hot" ? (u.classes ? fmt::format("one_hot({})", u.classes) : "one-hot") : u.encoding;
}

static std::string wrong_encoding(const std::string& loss, const std::string& want, const LabelUse& u) {
    return fmt::format("{} expects {} labels, but dataset '{}' gives {} labels", loss, want, u.dataset, describe(u));
}

static std::string not_a_vector(const LabelUse& u) {
    if (u.out.rank() == 1) return "";
    return fmt::format("dataset '{}' has one label per sample, but model '{}' outputs {} per sample; Keras compares "
                       "labels with a vector (add Flatten or a global pooling layer)", u.dataset, u.model, u.out);
}

// The number of values per sample the labels hold: one_hot(k)'s k, else one.
static int64_t label_width(const LabelUse& u) {
    if (u.encoding != "one_hot") return 1;
    return u.classes ? u.classes : u.out.back();
}

static std::string width_mismatch(const std::string& loss, const LabelUse& u) {
    if (u.encoding == "one_hot")
        return fmt::format("dataset '{}' has {} classes (one_hot({})) but model '{}' outputs {}", u.dataset, u.classes,
                           u.classes, u.model, u.out);
    return fmt::format("{} compares each output with the sample's {} label, so model '{}' must output one value per sample, "
                       "but it outputs {}{}", loss, u.encoding, u.model, u.out,
                       u.out.back() > 1 ? fmt::format(" (for one-hot targets, set labels = one_hot({}))", u.out.back()) : "");
}

// categorical and binary cross-entropy: labels of the output's shape.
static std::string same_shape(const std::string& loss, const LabelUse& u) {
    if (auto why = not_a_vector(u); !why.empty()) return why;
    return label_width(u) == u.out.back() ? "" : width_mismatch(loss, u);
}

// mse/mae: labels broadcast against the output (equal widths, or one of them 1). Int labels of
// shape (N,) broadcast only against one output (Keras' (N,) - (N, k) fails).
static std::string broadcasts(const std::string& loss, const LabelUse& u) {
    if (auto why = not_a_vector(u); !why.empty()) return why;
    const int64_t w = label_width(u), k = u.out.back();
    bool ok = u.encoding == "int" ? k == 1 : (w == k || w == 1 || k == 1);
    return ok ? "" : width_mismatch(loss, u);
}

// Keras' probabilistic losses fuse with the activation they expect, unless given logits.
static rt::LossSpec make_categorical(const std::string& name, const BoundArgs& a) {
    const rt::CrossentropyArgs c{a.flag("from_logits"), a.number("label_smoothing")};
    return {name, [c](const rt::View& o, const rt::View& t, float* g, bool wl) { return rt::categorical_crossentropy(c, false, o, t, g, wl); },
            c.from_logits ? "" : "softmax"};
}

static rt::LossSpec make_sparse_categorical(const std::string& name, const BoundArgs& a) {
    const rt::CrossentropyArgs c{a.flag("from_logits"), 0};  // Keras' sparse cross-entropy has no smoothing
    return {name, [c](const rt::View& o, const rt::View& t, float* g, bool wl) { return rt::categorical_crossentropy(c, true, o, t, g, wl); },
            c.from_logits ? "" : "softmax"};
}

static rt::LossSpec make_binary(const std::string& name, const BoundArgs& a) {
    const rt::CrossentropyArgs c{a.flag("from_logits"), a.number("label_smoothing")};
    return {name, [c](const rt::View& o, const rt::View& t, float* g, bool wl) { return rt::binary_crossentropy(c, o, t, g, wl); },
            c.from_logits ? "" : "sigmoid"};
}

static rt::LossSpec make_mse(const std::string& name, const BoundArgs&) {
    return {name, [](const rt::View& o, const rt::View& t, float* g, bool) { return rt::squared_error(o, t, g); }, ""};
}

static rt::LossSpec make_mae(const std::string& name, const BoundArgs&) {
    return {name, [](const rt::View& o, const rt::View& t, float* g, bool) { return rt::absolute_error(o, t, g); }, ""};
}

static rt::LossSpec make_huber(const std::string& name, const BoundArgs& a) {
    const double delta = a.number("delta");
    return {name, [delta](const rt::View& o, const rt::View& t, float* g, bool) { return rt::huber(delta, o, t, g); }, ""};
}

static rt::LossSpec make_kl_divergence(const std::string& name, const BoundArgs&) {
    return {name, [](const rt::View& o, const rt::View& t, float* g, bool) { return rt::kl_divergence(o, t, g); }, ""};
}

// kl_divergence compares distributions: Keras clips any output into [epsilon, 1], which makes the
// loss of an output that is not a probability meaningless, so the checker asks for one.
static std::string probabilities(const std::string& loss, const std::string& act) {
    if (activation_traits(act).probabilities) return "";
    return fmt::format("{} compares probability distributions, but the last layer applies {} (use softmax or sigmoid)", loss, act);
}

// The conformance test's batches: two samples of three probabilities, their one-hot and sparse
// targets (classes 1 and 2), and one sigmoid output against 0/1 labels.
static const std::vector<std::vector<float>> kProbs = {{0.1f, 0.7f, 0.2f}, {0.5f, 0.3f, 0.2f}};
static const std::vector<std::vector<float>> kOneHot = {{0, 1, 0}, {0, 0, 1}};
static const double kSquared = ((0.01 + 0.09 + 0.04) / 3 + (0.25 + 0.09 + 0.64) / 3) / 2;
static const double kAbsolute = ((0.1 + 0.3 + 0.2) / 3 + (0.5 + 0.3 + 0.8) / 3) / 2;
// What kl_divergence's clipped zero labels add against these probabilities.
static double kl_zeros(std::initializer_list<double> probs) {
    double s = 0;
    for (double p : probs) s += 1e-7 * std::log(1e-7 / p);
    return s;
}

const std::vector<LossKind>& losses() {
    static const std::vector<LossKind> list = [] {
        std::vector<LossKind> v;
        auto add = [&](Builtin b, std::string labels, decltype(LossKind::fits) fits, decltype(LossKind::labels_fit) labels_fit,
                       decltype(LossKind::make) make, std::string accuracy, std::vector<BatchExample> examples) {
            LossKind k;
            static_cast<Builtin&>(k) = std::move(b);
            k.labels = std::move(labels);
            k.fits = std::move(fits);
            k.labels_fit = std::move(labels_fit);
            k.make = make;
            k.accuracy = std::move(accuracy);
            k.examples = std::move(examples);
            v.push_back(std::move(k));
        };
        add({"categorical_crossentropy",
             {optional("from_logits", ArgType::Bool, B(false)), optional("label_smoothing", ArgType::Float, F(0)).min(0).max(1)},
             "cross-entropy against one-hot labels",
             {"CategoricalCrossentropy"}},
            "one_hot", [](const Shape& o, const std::string& act, const BoundArgs& a) {
                return categorical("categorical_crossentropy", o, act, a);
            },
            [](const LabelUse& u) {
                if (u.encoding != "one_hot")
                    return wrong_encoding("categorical_crossentropy", "one_hot(k)", u) + " (class ids take sparse_categorical_crossentropy)";
                return same_shape("categorical_crossentropy", u);
            },
            make_categorical, "categorical_accuracy", {{kProbs, kOneHot, -(std::log(0.7) + std::log(0.2)) / 2}});
        add({"sparse_categorical_crossentropy",
             {optional("from_logits", ArgType::Bool, B(false))},
             "cross-entropy against integer class labels",
             {"SparseCategoricalCrossentropy"}},
            "int", [](const Shape& o, const std::string& act, const BoundArgs& a) {
                return categorical("sparse_categorical_crossentropy", o, act, a);
            },
            [](const LabelUse& u) {  // class ids: int, or binary's 0/1
                if (u.encoding == "one_hot") return wrong_encoding("sparse_categorical_crossentropy", "int", u);
                return not_a_vector(u);
            },
            make_sparse_categorical, "sparse_categorical_accuracy", {{kProbs, {{1}, {2}}, -(std::log(0.7) + std::log(0.2)) / 2}});
        add({"binary_crossentropy",
             {optional("from_logits", ArgType::Bool, B(false)), optional("label_smoothing", ArgType::Float, F(0)).min(0).max(1)},
             "cross-entropy of independent yes/no outputs (labels 0 or 1)",
             {"BinaryCrossentropy"}},
            "binary", [](const Shape&, const std::string& act, const BoundArgs& a) {
                return needs("binary_crossentropy", "sigmoid", act, a.flag("from_logits"));
            },
            [](const LabelUse& u) { return same_shape("binary_crossentropy", u); }, make_binary, "binary_accuracy",
            {{{{0.8f}, {0.4f}}, {{1}, {0}}, -(std::log(0.8) + std::log(0.6)) / 2}});
        auto any = [](const Shape&, const std::string&, const BoundArgs&) { return std::string(); };
        add({"mean_squared_error", {}, "mean of squared differences", {"mse", "MeanSquaredError"}}, "int", any,
            [](const LabelUse& u) { return broadcasts("mean_squared_error", u); }, make_mse, "categorical_accuracy",
            {{kProbs, kOneHot, kSquared}});
        add({"mean_absolute_error", {}, "mean of absolute differences", {"mae", "MeanAbsoluteError"}}, "int", any,
            [](const LabelUse& u) { return broadcasts("mean_absolute_error", u); }, make_mae, "categorical_accuracy",
            {{kProbs, kOneHot, kAbsolute}});
        // Every error of the example is inside delta 1: half the squared error.
        add({"huber", {optional("delta", ArgType::Float, F(1.0)).above(0)}, "squared error near 0, absolute error beyond delta", {"Huber"}},
            "int", any, [](const LabelUse& u) { return broadcasts("huber", u); }, make_huber, "categorical_accuracy",
            {{kProbs, kOneHot, kSquared / 2}});
        // sum(y log(y / p)) per sample; the clipped zeros of the one-hot rows add 1e-7 log(1e-7 / p) each.
        add({"kl_divergence", {}, "Kullback-Leibler divergence of the output distribution from the labels'", {"KLDivergence", "kld"}},
            "one_hot", [](const Shape&, const std::string& act, const BoundArgs&) { return probabilities("kl_divergence", act); },
            [](const LabelUse& u) { return broadcasts("kl_divergence", u); }, make_kl_divergence, "categorical_accuracy",
            {{kProbs, kOneHot, (kl_zeros({0.1, 0.2}) - std::log(0.7) + kl_zeros({0.5, 0.3}) - std::log(0.2)) / 2}});
        return v;
    }();
    return list;
}

const std::vector<MetricKind>& metrics() {
    static const std::vector<MetricKind> list = {
        {{"accuracy", {}, "fraction of correct predictions; binary or categorical chosen from the loss, as Keras does", {"acc"}},
         nullptr, {}},
        // Thresholds 0.5 per output: 3 of 3 and 2 of 3 agree.
        {{"binary_accuracy", {}, "outputs thresholded at 0.5 against 0/1 labels", {}}, rt::binary_accuracy,
         {{kProbs, kOneHot, (1.0 + 2.0 / 3) / 2}}},
        {{"categorical_accuracy", {}, "arg-max against one-hot labels", {}}, rt::categorical_accuracy, {{kProbs, kOneHot, 0.5}}},
        {{"sparse_categorical_accuracy", {}, "arg-max against integer labels", {}}, rt::sparse_categorical_accuracy,
         {{kProbs, {{1}, {2}}, 0.5}}},
        // k = 5 > 3 classes: always right.
        {{"top_k_categorical_accuracy", {}, "label among the 5 highest scores", {}}, rt::top_k_categorical_accuracy,
         {{kProbs, kOneHot, 1}}},
        {{"mean_squared_error", {}, "mean of squared differences", {"mse"}}, rt::mean_squared_error, {{kProbs, kOneHot, kSquared}}},
        {{"mean_absolute_error", {}, "mean of absolute differences", {"mae"}}, rt::mean_absolute_error, {{kProbs, kOneHot, kAbsolute}}},
    };
    return list;
}

// keras.metrics.get for "accuracy": binary with a binary cross-entropy or one output, else the
// accuracy of the loss's labels.
rt::Metric resolve_metric(const std::string& name, const LossKind& loss, int64_t output_width) {
    const MetricKind* m = find_builtin(metrics(), name);
    if (!m->sum) m = find_builtin(metrics(), output_width == 1 ? std::string("binary_accuracy") : loss.accuracy);
    return {name, m->sum};
}

}  // namespace cnnc
