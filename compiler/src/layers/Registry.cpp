#include <regex>

#include "layers/Layer.h"

namespace cnnc {

#define CNNC_LAYER(N) const LayerKind& layer_##N();
#include "layers/LayerList.def"
#undef CNNC_LAYER

// Arguments every layer takes, as in Keras.
static void add_common(LayerKind& k) {
    k.params.push_back(optional("name", ArgType::String, none()).about("the layer's name in summaries and weights files"));
    k.params.push_back(optional("trainable", ArgType::Bool, B(true)).about("false freezes the layer's weights"));
    k.params.push_back(optional("input_shape", ArgType::Dims, none()).min(1).about("the model's input, on its first layer"));
}

const std::vector<const LayerKind*>& all_layers() {
    static const std::vector<const LayerKind*> list = [] {
        std::vector<const LayerKind*> v;
#define CNNC_LAYER(N)                                              \
    {                                                              \
        static LayerKind k = layer_##N();                          \
        add_common(k);                                             \
        v.push_back(&k);                                           \
    }
#include "layers/LayerList.def"
#undef CNNC_LAYER
        return v;
    }();
    return list;
}

const LayerKind* find_layer(const std::string& name) {
    for (const LayerKind* k : all_layers())
        if (k->name == name) return k;
    return nullptr;
}

std::vector<std::string> layer_names() {
    std::vector<std::string> v;
    for (const LayerKind* k : all_layers()) v.push_back(k->name);
    return v;
}

std::string snake_case(const std::string& name) {
    // Keras: re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name), then re.sub("([a-z])([A-Z])", r"\1_\2", ...).lower()
    static const std::regex a("(.)([A-Z][a-z]+)"), b("([a-z])([A-Z])");
    std::string s = std::regex_replace(name, a, "$1_$2");
    s = std::regex_replace(s, b, "$1_$2");
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

namespace layer_util {

int64_t window_out(int64_t n, int64_t k, int64_t stride, int64_t dilation, bool same) {
    if (same) return (n - 1) / stride + 1;
    int64_t span = dilation * (k - 1) + 1;
    if (n < span) return -1;
    return (n - span) / stride + 1;
}

std::string dims_text(const std::vector<int64_t>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "x" : "") + std::to_string(v[i]);
    return s;
}

int64_t product(const std::vector<int64_t>& v) { return Shape(v).elements(); }

int axis_index(int64_t axis, size_t rank) {
    int64_t r = static_cast<int64_t>(rank);
    if (axis < 0) axis += r + 1;  // -1 → r (Keras' last axis, batch counted)
    if (axis < 1 || axis > r) return -1;
    return static_cast<int>(axis - 1);
}

std::vector<ParamSpec> kernel_params() {
    return {optional("activation", ArgType::Activation, none()),
            optional("use_bias", ArgType::Bool, B(true)),
            optional("kernel_initializer", ArgType::Initializer, N("glorot_uniform")),
            optional("bias_initializer", ArgType::Initializer, N("zeros")),
            optional("kernel_regularizer", ArgType::Regularizer, none()),
            optional("bias_regularizer", ArgType::Regularizer, none())};
}

std::vector<WeightSpec> kernel_and_bias(const BoundArgs& a, Shape kernel, int64_t units) {
    std::vector<WeightSpec> w = {{"kernel", std::move(kernel), a.text("kernel_initializer")}};
    if (a.flag("use_bias")) w.push_back({"bias", Shape{units}, a.text("bias_initializer")});
    return w;
}

}  // namespace layer_util
}  // namespace cnnc
