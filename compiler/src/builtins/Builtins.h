// The named things a .cnn file can use besides layers: activations, initializers, regularizers,
// optimizers, losses, metrics, callbacks and data sources. Each family is one list in one file
// (builtins/<Family>.cpp); adding an entry there is all it takes for the checker to accept it,
// check its arguments and suggest it for near misses.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ir/Shape.h"
#include "ir/Schema.h"

namespace cnnc {

struct Builtin {
    std::string name;
    std::vector<ParamSpec> params;
    std::string doc;
    std::vector<std::string> aliases;  // other spellings Keras accepts: mse, RMSprop, acc
};

// A dataset's labels as a loss will compare them with a model's output.
struct LabelUse {
    std::string encoding;  // one_hot, int or binary
    int64_t classes = 0;   // one_hot(k)'s k; 0 when the dataset does not say (the model's width is used)
    std::string dataset, model;
    Shape out;             // the model's output, per sample
};

// A loss knows which model outputs and which labels it can be applied to.
struct LossKind : Builtin {
    // "" when `out` (the model's output shape, whose last layer applies `activation`) fits; otherwise
    // the reason it does not.
    std::function<std::string(const Shape& out, const std::string& activation, const BoundArgs& args)> fits;
    // "" when Keras compares these labels with this output; otherwise the reason it rejects them.
    std::function<std::string(const LabelUse&)> labels_fit;
    // The label encoding used when the dataset does not set `labels`: "one_hot", "int" or "binary".
    std::string labels;
};

// A data source yields (input, label) pairs; where its arguments fix the input shape, the checker
// compares it with the model's input before any file is read.
struct SourceKind : Builtin {
    std::function<std::optional<Shape>(const BoundArgs&)> element_shape;
};

const std::vector<Builtin>& activations();
const std::vector<Builtin>& initializers();
const std::vector<Builtin>& regularizers();
const std::vector<Builtin>& optimizers();
const std::vector<LossKind>& losses();
const std::vector<Builtin>& metrics();
const std::vector<Builtin>& callbacks();
const std::vector<SourceKind>& data_sources();
// Schemas of the declarations themselves: a dataset's options, a train's and an evaluate's fields.
const std::vector<ParamSpec>& dataset_options();
const std::vector<ParamSpec>& train_fields();
const std::vector<ParamSpec>& evaluate_fields();

template <class T>
const T* find_builtin(const std::vector<T>& list, const std::string& name) {
    for (const T& b : list) {
        if (b.name == name) return &b;
        for (const auto& a : b.aliases)
            if (a == name) return &b;
    }
    return nullptr;
}

template <class T>
std::vector<std::string> builtin_names(const std::vector<T>& list) {
    std::vector<std::string> v;
    for (const T& b : list) {
        v.push_back(b.name);
        for (const auto& a : b.aliases) v.push_back(a);
    }
    return v;
}

}  // namespace cnnc
