// GlobalMax/AveragePooling1D/2D: reduce every spatial axis, leaving one value per channel.
#include <fmt/format.h>

#include "layers/Layer.h"

namespace cnnc {

static LayerKind global_pooling(const char* op, int rank) {
    LayerKind k;
    k.name = fmt::format("Global{}Pooling{}D", op, rank);
    k.doc = fmt::format("{} over all {} spatial axes, per channel", op[0] == 'M' ? "maximum" : "mean", rank);
    k.params = {
        optional("data_format", ArgType::Name, N("channels_last")).one_of({"channels_last"}),
        optional("keepdims", ArgType::Bool, B(false)),
    };
    k.infer = [rank](const BoundArgs& a, const Shape& in) {
        const char* axes = rank == 2 ? "(height, width, channels)" : "(steps, channels)";
        if (static_cast<int>(in.rank()) != rank + 1)
            return ShapeResult::fail(fmt::format("expects a {}-D input {}, got {}", rank + 1, axes, in));
        Shape out;
        if (a.flag("keepdims")) out.dims.assign(static_cast<size_t>(rank), 1);
        out.dims.push_back(in.back());
        return ShapeResult::ok(out);
    };
    k.flops = [](const BoundArgs&, const Shape& in, const Shape&) { return double(in.elements()); };
    std::string name = k.name;
    if (rank == 2)
        k.examples = {{{5, 5, 512}, name + "()", {512}, 0}, {{5, 5, 8}, name + "(keepdims = true)", {1, 1, 8}, 0}};
    else
        k.examples = {{{4, 128}, name + "()", {128}, 0}, {{7, 3}, name + "(keepdims = true)", {1, 3}, 0}};
    return k;
}

const LayerKind& layer_GlobalMaxPooling1D() { static const LayerKind k = global_pooling("Max", 1); return k; }
const LayerKind& layer_GlobalMaxPooling2D() { static const LayerKind k = global_pooling("Max", 2); return k; }
const LayerKind& layer_GlobalAveragePooling1D() { static const LayerKind k = global_pooling("Average", 1); return k; }
const LayerKind& layer_GlobalAveragePooling2D() { static const LayerKind k = global_pooling("Average", 2); return k; }

}  // namespace cnnc
