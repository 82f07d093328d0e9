// Flatten and Reshape: change the shape, never the values.
#include <fmt/format.h>

#include "layers/Layer.h"

namespace cnnc {

const LayerKind& layer_Flatten() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "Flatten";
        k.doc = "collapses every axis but the batch into one";
        k.params = {optional("data_format", ArgType::Name, N("channels_last")).one_of({"channels_last"})};
        k.infer = [](const BoundArgs&, const Shape& in) { return ShapeResult::ok(Shape{in.elements()}); };
        k.keeps_activation = true;
        k.examples = {{{3, 3, 64}, "Flatten()", {576}, 0}, {{12544}, "Flatten()", {12544}, 0}};
        return k;
    }();
    return k;
}

const LayerKind& layer_Reshape() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "Reshape";
        k.doc = "gives the same values a new shape; one axis may be -1 (inferred)";
        k.params = {required("target_shape", ArgType::Dims).min(-1)};
        k.keeps_activation = true;
        k.infer = [](const BoundArgs& a, const Shape& in) {
            auto t = a.ints("target_shape");
            int64_t known = 1;
            int unknown = -1;
            for (size_t i = 0; i < t.size(); ++i) {
                if (t[i] == -1) {
                    if (unknown >= 0) return ShapeResult::fail("target_shape may contain -1 only once");
                    unknown = static_cast<int>(i);
                } else if (t[i] == 0) {
                    return ShapeResult::fail("target_shape must not contain 0");
                } else {
                    known *= t[i];
                }
            }
            if (unknown >= 0) {
                if (in.elements() % known != 0)
                    return ShapeResult::fail(fmt::format("cannot reshape {} values into {}", in.elements(), layer_util::dims_text(t)));
                t[static_cast<size_t>(unknown)] = in.elements() / known;
            } else if (known != in.elements()) {
                return ShapeResult::fail(fmt::format("target_shape {} holds {} values, but the input has {}",
                                                     Shape(t).str(false), known, in.elements()));
            }
            return ShapeResult::ok(Shape(t));
        };
        k.examples = {{{9}, "Reshape((9, 1))", {9, 1}, 0}, {{12}, "Reshape((-1, 3))", {4, 3}, 0}};
        return k;
    }();
    return k;
}

}  // namespace cnnc
