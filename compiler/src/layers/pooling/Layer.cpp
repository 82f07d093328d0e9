// MaxPooling1D/2D and AveragePooling1D/2D: a window reduced to its maximum or mean; strides default
// to the pool size, and the output length is floored (Keras semantics).
#include <fmt/format.h>

#include "layers/Layer.h"

namespace cnnc {
using namespace layer_util;

static LayerKind pooling(const char* op, int rank) {
    LayerKind k;
    k.name = fmt::format("{}Pooling{}D", op, rank);
    k.doc = fmt::format("{}-D {} pooling over windows of `pool_size`", rank, op[0] == 'M' ? "max" : "average");
    k.params = {
        optional("pool_size", ArgType::Size, I(2)).dims(rank).min(1),
        optional("strides", ArgType::Size, none()).dims(rank).min(1).about("default: pool_size"),
        optional("padding", ArgType::Name, N("valid")).one_of({"valid", "same"}),
        optional("data_format", ArgType::Name, N("channels_last")).one_of({"channels_last"}),
    };
    auto strides = [](const BoundArgs& a) { return a.is_none("strides") ? a.ints("pool_size") : a.ints("strides"); };
    k.infer = [rank, strides](const BoundArgs& a, const Shape& in) {
        const char* axes = rank == 2 ? "(height, width, channels)" : "(steps, channels)";
        if (static_cast<int>(in.rank()) != rank + 1)
            return ShapeResult::fail(fmt::format("expects a {}-D input {}, got {}", rank + 1, axes, in));
        auto ps = a.ints("pool_size"), st = strides(a);
        bool same = a.text("padding") == "same";
        std::vector<int64_t> spatial(in.dims.begin(), in.dims.end() - 1);
        Shape out;
        for (int d = 0; d < rank; ++d) {
            auto u = static_cast<size_t>(d);
            int64_t o = window_out(in[u], ps[u], st[u], 1, same);
            if (o < 1)
                return ShapeResult::fail(fmt::format("pool {} does not fit the {} input with padding = valid",
                                                     dims_text(ps), dims_text(spatial)));
            out.dims.push_back(o);
        }
        out.dims.push_back(in.back());
        return ShapeResult::ok(out);
    };
    k.flops = [](const BoundArgs& a, const Shape&, const Shape& out) { return double(out.elements()) * double(product(a.ints("pool_size"))); };
    if (rank == 2)
        k.examples = {{{26, 26, 32}, fmt::format("{}Pooling2D((2, 2))", op), {13, 13, 32}, 0},
                      {{5, 5, 1}, fmt::format("{}Pooling2D(2, strides = 1)", op), {4, 4, 1}, 0},
                      {{7, 7, 3}, fmt::format("{}Pooling2D(3, padding = same)", op), {3, 3, 3}, 0}};
    else
        k.examples = {{{9, 256}, fmt::format("{}Pooling1D(2)", op), {4, 256}, 0},
                      {{10, 2}, fmt::format("{}Pooling1D(3, strides = 2)", op), {4, 2}, 0}};
    return k;
}

const LayerKind& layer_MaxPooling1D() { static const LayerKind k = pooling("Max", 1); return k; }
const LayerKind& layer_MaxPooling2D() { static const LayerKind k = pooling("Max", 2); return k; }
const LayerKind& layer_AveragePooling1D() { static const LayerKind k = pooling("Average", 1); return k; }
const LayerKind& layer_AveragePooling2D() { static const LayerKind k = pooling("Average", 2); return k; }

}  // namespace cnnc
