// What a layer kind is, in one record: its Keras name, argument schema with defaults, shape rule,
// weights and FLOPs. One file per layer family under layers/ defines these records and
// layers/LayerList.def lists them; nothing else in the compiler names a layer.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "ir/Shape.h"
#include "ir/Schema.h"

namespace cnnc {

struct WeightSpec {
    std::string name;         // Keras' variable name: "kernel", "bias", "embeddings"
    Shape shape;              // Keras' layout: Conv2D kernel (k_h, k_w, C_in, F), Dense (in, out)
    std::string initializer;  // from the layer's *_initializer argument
    // False for Keras' non-trainable variables (BatchNormalization's moving_mean and
    // moving_variance): forward updates them, no gradient or optimizer does, and they stay so when
    // their layer is unfrozen. A frozen layer's weights are all non-trainable whatever this says.
    bool trainable = true;
};

// A shape rule's answer: the output shape, or why the input does not fit.
struct ShapeResult {
    Shape out;
    std::string error;
    static ShapeResult ok(Shape s) { return {std::move(s), {}}; }
    static ShapeResult fail(std::string why) { return {{}, std::move(why)}; }
};

// A worked example, checked by the layer conformance test: `code` applied to input shape `in`
// gives `out` with `params` weights, `non_trainable` of them non-trainable (numbers computed by
// hand, as Keras reports them). A merge's example also reads `others`, tensors named x1, x2... in
// its code: `Add(x1)`.
struct LayerExample {
    Shape in;
    std::string code;
    Shape out;
    int64_t params = 0;
    std::vector<Shape> others;
    int64_t non_trainable = 0;
};

// What a layer's `validate` found: the message ("" when fine) and the argument it is about, where
// the error points ("" points at the call: a problem across arguments). A plain message converts.
struct Invalid {
    Invalid(std::string why = "", std::string arg = "") : why(std::move(why)), arg(std::move(arg)) {}
    std::string why, arg;
};

struct LayerKind {
    std::string name;  // the name written in .cnn files: "Conv2D"
    std::string doc;
    std::vector<ParamSpec> params;  // in Keras' positional order; name/trainable/input_shape are added for all
    // Output shape for a given input shape (batch axis excluded).
    std::function<ShapeResult(const BoundArgs&, const Shape& in)> infer;
    // Variables for a given input shape, in Keras' order; empty for layers without weights.
    std::function<std::vector<WeightSpec>(const BoundArgs&, const Shape& in)> weights;
    // Forward floating-point operations per sample (a multiply-add counts 2).
    std::function<double(const BoundArgs&, const Shape& in, const Shape& out)> flops;
    // Merge layers (Add, Concatenate...) read several tensors: `merge` is their shape rule over all
    // of them, in order, and `merge_flops` their FLOPs; `infer` and `flops` are unused, and
    // `weights` sees the first input's shape. A merge takes between min_inputs and max_inputs
    // tensors (0: no upper bound).
    std::function<ShapeResult(const BoundArgs&, const std::vector<Shape>& ins)> merge;
    std::function<double(const BoundArgs&, const std::vector<Shape>& ins, const Shape& out)> merge_flops;
    int min_inputs = 1, max_inputs = 1;
    bool is_merge() const { return static_cast<bool>(merge); }
    // Checks the schema cannot express (across arguments, or a value named but not supported).
    std::function<Invalid(const BoundArgs&)> validate;
    bool augmentation = false;          // a random transform, active in training only
    bool keeps_activation = false;      // Dropout, Flatten...: the model's output activation looks through it
    std::string activation_arg;         // the argument naming the output activation, if any
    std::vector<LayerExample> examples; // at least one per layer (tests/unit/test_layers.cpp)
};

const std::vector<const LayerKind*>& all_layers();
const LayerKind* find_layer(const std::string& name);
std::vector<std::string> layer_names();
// Keras' default layer name for a class: Conv2D → conv2d, MaxPooling2D → max_pooling2d.
std::string snake_case(const std::string& class_name);

// Helpers shared by the layer files.
namespace layer_util {
// Output length of a sliding window along one axis, or -1 when the window does not fit.
int64_t window_out(int64_t n, int64_t k, int64_t stride, int64_t dilation, bool same);
std::string dims_text(const std::vector<int64_t>& v);  // {3, 3} → "3x3"
int64_t product(const std::vector<int64_t>& v);
// Keras' axis argument counts the batch as axis 0: axis 1 is the first axis of a cnnc shape, -1
// the last. The index into a shape of `rank` axes, or -1 when the axis is the batch or out of range.
int axis_index(int64_t axis, size_t rank);
// The arguments Keras' Conv* and Dense end with, in their positional order: activation, use_bias,
// kernel/bias initializers and regularizers.
std::vector<ParamSpec> kernel_params();
// Keras' kernel + optional bias pair for a layer with `units` outputs (Conv*, Dense).
std::vector<WeightSpec> kernel_and_bias(const BoundArgs& a, Shape kernel, int64_t units);
}  // namespace layer_util

}  // namespace cnnc
