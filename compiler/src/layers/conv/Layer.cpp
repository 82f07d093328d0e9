// Conv1D and Conv2D: a cross-correlation over the spatial axes, channels last (Keras semantics).
#include <fmt/format.h>

#include "layers/Layer.h"

namespace cnnc {
using namespace layer_util;

static LayerKind conv(int rank) {
    LayerKind k;
    k.name = fmt::format("Conv{}D", rank);
    k.doc = fmt::format("{}-D convolution: `filters` kernels of size `kernel_size` slid over the input", rank);
    k.params = {
        required("filters", ArgType::Int).min(1).about("number of output channels"),
        required("kernel_size", ArgType::Size).dims(rank).min(1),
        optional("strides", ArgType::Size, I(1)).dims(rank).min(1),
        optional("padding", ArgType::Name, N("valid")).one_of({"valid", "same"}),
        optional("data_format", ArgType::Name, N("channels_last")).one_of({"channels_last"}),
        optional("dilation_rate", ArgType::Size, I(1)).dims(rank).min(1),
    };
    for (auto& p : kernel_params()) k.params.push_back(p);
    k.activation_arg = "activation";
    k.validate = [](const BoundArgs& a) -> std::string {
        bool strided = false, dilated = false;
        for (auto s : a.ints("strides")) strided |= s > 1;
        for (auto d : a.ints("dilation_rate")) dilated |= d > 1;
        if (strided && dilated) return "strides > 1 cannot be combined with dilation_rate > 1";
        return "";
    };
    k.infer = [rank](const BoundArgs& a, const Shape& in) {
        const char* axes = rank == 2 ? "(height, width, channels)" : "(steps, channels)";
        if (static_cast<int>(in.rank()) != rank + 1)
            return ShapeResult::fail(fmt::format("expects a {}-D input {}, got {}", rank + 1, axes, in));
        auto ks = a.ints("kernel_size"), st = a.ints("strides"), dl = a.ints("dilation_rate");
        bool same = a.text("padding") == "same";
        Shape out;
        std::vector<int64_t> spatial(in.dims.begin(), in.dims.end() - 1);
        for (int d = 0; d < rank; ++d) {
            int64_t o = window_out(in[static_cast<size_t>(d)], ks[static_cast<size_t>(d)], st[static_cast<size_t>(d)],
                                   dl[static_cast<size_t>(d)], same);
            if (o < 1)
                return ShapeResult::fail(fmt::format("kernel {} does not fit the {} input with padding = valid",
                                                     dims_text(ks), dims_text(spatial)));
            out.dims.push_back(o);
        }
        out.dims.push_back(a.integer("filters"));
        return ShapeResult::ok(out);
    };
    k.weights = [](const BoundArgs& a, const Shape& in) {
        Shape kernel(a.ints("kernel_size"));
        kernel.dims.push_back(in.back());
        kernel.dims.push_back(a.integer("filters"));
        return kernel_and_bias(a, kernel, a.integer("filters"));
    };
    k.flops = [](const BoundArgs& a, const Shape& in, const Shape& out) {
        double macs = double(out.elements()) * double(product(a.ints("kernel_size"))) * double(in.back());
        return 2 * macs + (a.flag("use_bias") ? double(out.elements()) : 0.0);
    };
    if (rank == 2)
        k.examples = {{{28, 28, 1}, "Conv2D(32, (3, 3))", {26, 26, 32}, 320},
                      {{5, 5, 3}, "Conv2D(4, 3, strides = 2, padding = same, use_bias = false)", {3, 3, 4}, 108},
                      {{9, 9, 2}, "Conv2D(3, 3, dilation_rate = 2)", {5, 5, 3}, 57},
                      {{9, 9, 3}, "Conv2D(8, 3)", {7, 7, 8}, 224}};  // RGB in: 27 kernel taps, not a multiple of 16
    else
        k.examples = {{{9, 1}, "Conv1D(256, 4, padding = same)", {9, 256}, 1280},
                      {{500, 128}, "Conv1D(32, 7)", {494, 32}, 28704}};
    return k;
}

const LayerKind& layer_Conv1D() { static const LayerKind k = conv(1); return k; }
const LayerKind& layer_Conv2D() { static const LayerKind k = conv(2); return k; }

}  // namespace cnnc
