// Conv1D and Conv2D: a cross-correlation over the spatial axes, channels last (Keras semantics).
// With `groups`, the channels split into that many groups, each convolved on its own (kernel
// (k..., C/groups, filters)); Conv1D's padding = causal pads dilation * (k - 1) steps on the left.
#include <fmt/format.h>

#include "layers/conv/LayerWindow.h"

namespace cnnc {
using namespace layer_util;
using namespace conv_window;

static LayerKind conv(int rank) {
    LayerKind k;
    k.name = fmt::format("Conv{}D", rank);
    k.doc = fmt::format("{}-D convolution: `filters` kernels of size `kernel_size` slid over the input", rank);
    k.params = {required("filters", ArgType::Int).min(1).about("number of output channels")};
    std::vector<std::string> paddings = {"valid", "same"};
    if (rank == 1) paddings.push_back("causal");
    for (auto& p : window_params(rank, paddings)) k.params.push_back(p);
    for (auto& p : format_and_dilation(rank)) k.params.push_back(p);
    k.params.push_back(optional("groups", ArgType::Int, I(1)).min(1).about("channel groups convolved separately"));
    for (auto& p : kernel_params()) k.params.push_back(p);
    k.activation_arg = "activation";
    k.validate = [](const BoundArgs& a) -> std::string {
        if (a.integer("filters") % a.integer("groups") != 0)
            return fmt::format("filters = {} is not divisible by groups = {}", a.integer("filters"), a.integer("groups"));
        return strides_with_dilation(a);
    };
    k.infer = [rank](const BoundArgs& a, const Shape& in) {
        ShapeResult r = window_shape(a, in, rank, a.integer("filters"));
        const int64_t groups = a.integer("groups");
        if (r.error.empty() && in.back() % groups != 0)
            return ShapeResult::fail(fmt::format("its {} input channels are not divisible by groups = {}", in.back(), groups));
        return r;
    };
    k.weights = [](const BoundArgs& a, const Shape& in) {
        Shape kernel(a.ints("kernel_size"));
        kernel.dims.push_back(in.back() / a.integer("groups"));
        kernel.dims.push_back(a.integer("filters"));
        return kernel_and_bias(a, kernel, a.integer("filters"));
    };
    k.flops = [](const BoundArgs& a, const Shape& in, const Shape& out) {
        double macs = double(out.elements()) * double(product(a.ints("kernel_size"))) * double(in.back() / a.integer("groups"));
        return 2 * macs + (a.flag("use_bias") ? double(out.elements()) : 0.0);
    };
    if (rank == 2)
        k.examples = {{{28, 28, 1}, "Conv2D(32, (3, 3))", {26, 26, 32}, 320},
                      {{5, 5, 3}, "Conv2D(4, 3, strides = 2, padding = same, use_bias = false)", {3, 3, 4}, 108},
                      {{9, 9, 2}, "Conv2D(3, 3, dilation_rate = 2)", {5, 5, 3}, 57},
                      {{9, 9, 3}, "Conv2D(8, 3)", {7, 7, 8}, 224},  // RGB in: 27 kernel taps, not a multiple of 16
                      // 2 groups of 4 channels, 3 filters each: 3*3*4*6 + 6 = 222.
                      {{6, 6, 8}, "Conv2D(6, 3, groups = 2)", {4, 4, 6}, 222},
                      // 4 groups of 4 channels, 4 filters each, strided: 3*3*4*16 = 576.
                      {{7, 7, 16}, "Conv2D(16, 3, strides = 2, padding = same, groups = 4, use_bias = false)", {4, 4, 16}, 576}};
    else
        k.examples = {{{9, 1}, "Conv1D(256, 4, padding = same)", {9, 256}, 1280},
                      {{500, 128}, "Conv1D(32, 7)", {494, 32}, 28704},
                      // Causal: 2 * (3 - 1) = 4 steps of left padding keep all 10: 3*2*4 + 4 = 28.
                      {{10, 2}, "Conv1D(4, 3, padding = causal, dilation_rate = 2)", {10, 4}, 28},
                      {{9, 3}, "Conv1D(5, 2, strides = 2, padding = causal)", {5, 5}, 35},
                      // 3 groups of 2 channels, 2 filters each: 3*2*6 + 6 = 42.
                      {{8, 6}, "Conv1D(6, 3, groups = 3)", {6, 6}, 42}};
    return k;
}

const LayerKind& layer_Conv1D() { static const LayerKind k = conv(1); return k; }
const LayerKind& layer_Conv2D() { static const LayerKind k = conv(2); return k; }

}  // namespace cnnc
