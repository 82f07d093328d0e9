// Losses. Each says which outputs it fits, so `binary_crossentropy` on a 10-way softmax is a
// compile-time error instead of a silently meaningless training run.
#include <fmt/format.h>

#include "builtins/Builtins.h"

namespace cnnc {

// Probabilistic losses need the output activation that produces what they expect (or raw scores
// with from_logits = true).
static std::string needs(const std::string& loss, const std::string& want, const std::string& act, bool from_logits) {
    if (from_logits) {
        if (act == "softmax" || act == "sigmoid")
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

const std::vector<LossKind>& losses() {
    static const std::vector<LossKind> list = [] {
        std::vector<LossKind> v;
        auto add = [&](Builtin b, std::string labels, decltype(LossKind::fits) fits) {
            LossKind k;
            static_cast<Builtin&>(k) = std::move(b);
            k.labels = std::move(labels);
            k.fits = std::move(fits);
            v.push_back(std::move(k));
        };
        add({"categorical_crossentropy",
             {optional("from_logits", ArgType::Bool, B(false)), optional("label_smoothing", ArgType::Float, F(0)).min(0).max(1)},
             "cross-entropy against one-hot labels",
             {"CategoricalCrossentropy"}},
            "one_hot", [](const Shape& o, const std::string& act, const BoundArgs& a) {
                return categorical("categorical_crossentropy", o, act, a);
            });
        add({"sparse_categorical_crossentropy",
             {optional("from_logits", ArgType::Bool, B(false))},
             "cross-entropy against integer class labels",
             {"SparseCategoricalCrossentropy"}},
            "int", [](const Shape& o, const std::string& act, const BoundArgs& a) {
                return categorical("sparse_categorical_crossentropy", o, act, a);
            });
        add({"binary_crossentropy",
             {optional("from_logits", ArgType::Bool, B(false)), optional("label_smoothing", ArgType::Float, F(0)).min(0).max(1)},
             "cross-entropy of independent yes/no outputs (labels 0 or 1)",
             {"BinaryCrossentropy"}},
            "binary", [](const Shape&, const std::string& act, const BoundArgs& a) {
                return needs("binary_crossentropy", "sigmoid", act, a.flag("from_logits"));
            });
        auto any = [](const Shape&, const std::string&, const BoundArgs&) { return std::string(); };
        add({"mean_squared_error", {}, "mean of squared differences", {"mse", "MeanSquaredError"}}, "any", any);
        add({"mean_absolute_error", {}, "mean of absolute differences", {"mae", "MeanAbsoluteError"}}, "any", any);
        return v;
    }();
    return list;
}

const std::vector<Builtin>& metrics() {
    static const std::vector<Builtin> list = {
        {"accuracy", {}, "fraction of correct predictions; binary or categorical chosen from the loss, as Keras does", {"acc"}},
        {"binary_accuracy", {}, "outputs thresholded at 0.5 against 0/1 labels", {}},
        {"categorical_accuracy", {}, "arg-max against one-hot labels", {}},
        {"sparse_categorical_accuracy", {}, "arg-max against integer labels", {}},
        {"top_k_categorical_accuracy", {}, "label among the 5 highest scores", {}},
        {"mean_squared_error", {}, "mean of squared differences", {"mse"}},
        {"mean_absolute_error", {}, "mean of absolute differences", {"mae"}},
    };
    return list;
}

}  // namespace cnnc
