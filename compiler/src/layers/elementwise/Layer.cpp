// Layers that map each value on its own: Activation, Dropout, SpatialDropout2D, Rescaling, PreprocessInput.
#include <fmt/format.h>

#include "layers/Layer.h"

namespace cnnc {

static ShapeResult same_shape(const BoundArgs&, const Shape& in) { return ShapeResult::ok(in); }

const LayerKind& layer_Activation() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "Activation";
        k.doc = "applies an activation function";
        k.params = {required("activation", ArgType::Activation)};
        k.activation_arg = "activation";
        k.infer = same_shape;
        k.flops = [](const BoundArgs&, const Shape& in, const Shape&) { return double(in.elements()); };
        k.examples = {{{10}, "Activation(softmax)", {10}, 0}};
        return k;
    }();
    return k;
}

const LayerKind& layer_Dropout() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "Dropout";
        k.doc = "in training, zeroes a `rate` fraction of the values and scales the rest by 1/(1-rate); identity otherwise";
        k.params = {required("rate", ArgType::Float).min(0).below(1), optional("noise_shape", ArgType::Dims, none()),
                    optional("seed", ArgType::Int, none())};
        k.infer = same_shape;
        k.keeps_activation = true;
        k.examples = {{{7, 7, 256}, "Dropout(0.5)", {7, 7, 256}, 0}};
        return k;
    }();
    return k;
}

const LayerKind& layer_SpatialDropout2D() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "SpatialDropout2D";
        k.doc = "in training, zeroes a `rate` fraction of whole channels (one draw per image and channel) and scales the "
                "rest by 1/(1-rate); identity otherwise";
        k.params = {required("rate", ArgType::Float).min(0).below(1),
                    optional("data_format", ArgType::Name, N("channels_last")).one_of({"channels_last"}),
                    optional("seed", ArgType::Int, none())};
        k.infer = [](const BoundArgs&, const Shape& in) {
            if (in.rank() != 3) return ShapeResult::fail(fmt::format("expects images (height, width, channels), got {}", in));
            return ShapeResult::ok(in);
        };
        k.keeps_activation = true;
        k.examples = {{{5, 4, 8}, "SpatialDropout2D(0.5)", {5, 4, 8}, 0}, {{3, 3, 3}, "SpatialDropout2D(0.2, seed = 7)", {3, 3, 3}, 0}};
        return k;
    }();
    return k;
}

const LayerKind& layer_Rescaling() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "Rescaling";
        k.doc = "output = input * scale + offset (e.g. scale = 1/255 for 8-bit images)";
        k.params = {required("scale", ArgType::Float), optional("offset", ArgType::Float, F(0.0))};
        k.infer = same_shape;
        k.flops = [](const BoundArgs&, const Shape& in, const Shape&) { return 2.0 * double(in.elements()); };
        k.examples = {{{180, 180, 3}, "Rescaling(1/255)", {180, 180, 3}, 0}, {{4}, "Rescaling(scale = 2, offset = -1)", {4}, 0}};
        return k;
    }();
    return k;
}

const LayerKind& layer_PreprocessInput() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "PreprocessInput";
        k.doc = "keras.applications' preprocess_input: caffe (RGB→BGR, ImageNet mean subtracted; VGG16), "
                "tf (scaled to [-1, 1]) or torch (scaled to [0, 1], ImageNet mean and std)";
        k.params = {optional("mode", ArgType::Name, N("caffe")).one_of({"caffe", "tf", "torch"})};
        k.infer = [](const BoundArgs&, const Shape& in) {
            if (in.rank() != 3 || in.back() != 3)
                return ShapeResult::fail(fmt::format("expects RGB images (height, width, 3), got {}", in));
            return ShapeResult::ok(in);
        };
        k.flops = [](const BoundArgs&, const Shape& in, const Shape&) { return 2.0 * double(in.elements()); };
        k.examples = {{{180, 180, 3}, "PreprocessInput()", {180, 180, 3}, 0}};
        return k;
    }();
    return k;
}

}  // namespace cnnc
