// Dense: a fully connected layer on the last axis (Keras applies it to the last axis of any rank).
#include <fmt/format.h>

#include "layers/Layer.h"

namespace cnnc {

const LayerKind& layer_Dense() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "Dense";
        k.doc = "output = activation(input · kernel + bias) over the last axis";
        k.params = {required("units", ArgType::Int).min(1)};
        for (auto& p : layer_util::kernel_params()) k.params.push_back(p);
        k.activation_arg = "activation";
        k.infer = [](const BoundArgs& a, const Shape& in) {
            if (in.rank() < 1) return ShapeResult::fail(fmt::format("expects at least a 1-D input, got {}", in));
            Shape out = in;
            out.dims.back() = a.integer("units");
            return ShapeResult::ok(out);
        };
        k.weights = [](const BoundArgs& a, const Shape& in) {
            return layer_util::kernel_and_bias(a, Shape{in.back(), a.integer("units")}, a.integer("units"));
        };
        k.flops = [](const BoundArgs& a, const Shape& in, const Shape& out) {
            return 2.0 * double(in.elements()) * double(a.integer("units")) + (a.flag("use_bias") ? double(out.elements()) : 0.0);
        };
        k.examples = {{{576}, "Dense(64, activation = relu)", {64}, 36928},
                      {{12544}, "Dense(1, activation = sigmoid)", {1}, 12545},
                      {{5, 8}, "Dense(3, use_bias = false)", {5, 3}, 24}};
        return k;
    }();
    return k;
}

}  // namespace cnnc
