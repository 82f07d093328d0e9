// UpSampling2D: each image `size` times taller and wider (Keras 3, channels last), each pixel
// repeated (nearest) or each output interpolated from the four pixels around it (bilinear, Keras'
// resize with half-pixel centres). No weights.
#include <fmt/format.h>

#include "layers/Layer.h"

namespace cnnc {

const LayerKind& layer_UpSampling2D() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "UpSampling2D";
        k.doc = "makes each image `size` = n or (height, width) times taller and wider: pixels repeated (nearest) or interpolated (bilinear)";
        k.params = {optional("size", ArgType::Size, Value::tuple({I(2), I(2)})).dims(2).min(1),
                    optional("data_format", ArgType::Name, N("channels_last")).one_of({"channels_last"}),
                    // Keras' other modes are named so that a file using one is told it is not
                    // supported yet, rather than that the name is unknown.
                    optional("interpolation", ArgType::Name, N("nearest")).one_of({"nearest", "bilinear", "bicubic", "lanczos3", "lanczos5"})};
        k.validate = [](const BoundArgs& a) {
            const std::string& mode = a.text("interpolation");
            if (mode == "nearest" || mode == "bilinear") return Invalid();
            return Invalid(fmt::format("interpolation = {} is not supported yet; only nearest and bilinear are", mode), "interpolation");
        };
        k.infer = [](const BoundArgs& a, const Shape& in) {
            if (in.rank() != 3) return ShapeResult::fail(fmt::format("expects images (height, width, channels), got {}", in));
            auto s = a.ints("size");
            return ShapeResult::ok(Shape{in[0] * s[0], in[1] * s[1], in[2]});
        };
        k.examples = {{{14, 14, 8}, "UpSampling2D()", {28, 28, 8}, 0},
                      {{3, 4, 2}, "UpSampling2D((2, 3))", {6, 12, 2}, 0},
                      {{5, 5, 3}, "UpSampling2D(size = 1, interpolation = nearest)", {5, 5, 3}, 0},
                      {{3, 4, 2}, "UpSampling2D((2, 3), interpolation = bilinear)", {6, 12, 2}, 0},
                      {{4, 3, 8}, "UpSampling2D(2, interpolation = \"bilinear\")", {8, 6, 8}, 0}};
        return k;
    }();
    return k;
}

}  // namespace cnnc
