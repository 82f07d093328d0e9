// Conv2DTranspose (Keras 3, channels last): the input-gradient of a Conv2D, used to upsample. Each
// input pixel scatters its kernel-weighted copy into a window of the output; the output size is
// Keras' deconv_output_length (keras/src/backend/common/backend_utils.py).
#include <fmt/format.h>

#include "layers/conv/LayerWindow.h"

namespace cnnc {
using namespace layer_util;
using namespace conv_window;

namespace {

// Keras' deconv_output_length along one axis; output_padding < 0 stands for None.
int64_t deconv_length(int64_t n, int64_t k, int64_t stride, int64_t dilation, bool same, int64_t output_padding) {
    const int64_t span = (k - 1) * dilation + 1;
    if (output_padding < 0) return same ? n * stride : n * stride + std::max<int64_t>(span - stride, 0);
    const int64_t pad = same ? span / 2 : 0;
    return (n - 1) * stride + span - 2 * pad + output_padding;
}

}  // namespace

const LayerKind& layer_Conv2DTranspose() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "Conv2DTranspose";
        k.doc = "2-D transposed convolution (the input-gradient of a Conv2D): upsamples by `strides` with learned kernels";
        k.params = {required("filters", ArgType::Int).min(1).about("number of output channels")};
        for (auto& p : window_params(2)) k.params.push_back(p);
        k.params.push_back(optional("output_padding", ArgType::Size, none()).dims(2).min(0).about("extra rows and columns after the output; below strides"));
        for (auto& p : format_and_dilation(2)) k.params.push_back(p);
        for (auto& p : kernel_params()) k.params.push_back(p);
        k.activation_arg = "activation";
        k.validate = [](const BoundArgs& a) -> std::string {
            if (!a.is_none("output_padding")) {
                auto op = a.ints("output_padding"), st = a.ints("strides");
                for (size_t d = 0; d < 2; ++d)
                    if (op[d] >= st[d])
                        return fmt::format("output_padding = {} must be less than strides = {}", dims_text(op), dims_text(st));
            }
            return strides_with_dilation(a);
        };
        k.infer = [](const BoundArgs& a, const Shape& in) {
            if (in.rank() != 3) return ShapeResult::fail(fmt::format("expects a 3-D input {}, got {}", axes_text(2), in));
            auto ks = a.ints("kernel_size"), st = a.ints("strides"), dl = a.ints("dilation_rate");
            std::vector<int64_t> op = a.is_none("output_padding") ? std::vector<int64_t>{-1, -1} : a.ints("output_padding");
            Shape out;
            for (size_t d = 0; d < 2; ++d) {
                int64_t o = deconv_length(in[d], ks[d], st[d], dl[d], a.text("padding") == "same", op[d]);
                if (o < 1) return ShapeResult::fail(fmt::format("its output would be empty ({} along axis {})", o, d + 1));
                out.dims.push_back(o);
            }
            out.dims.push_back(a.integer("filters"));
            return ShapeResult::ok(out);
        };
        k.weights = [](const BoundArgs& a, const Shape& in) {
            // Keras' layout (kh, kw, filters, C_in): a Conv2D kernel's with its channel axes swapped.
            Shape kernel(a.ints("kernel_size"));
            kernel.dims.push_back(a.integer("filters"));
            kernel.dims.push_back(in.back());
            return kernel_and_bias(a, kernel, a.integer("filters"));
        };
        k.flops = [](const BoundArgs& a, const Shape& in, const Shape& out) {
            double macs = double(in.elements()) * double(product(a.ints("kernel_size"))) * double(a.integer("filters"));
            return 2 * macs + (a.flag("use_bias") ? double(out.elements()) : 0.0);
        };
        // Output sizes by deconv_length; parameters kh*kw*filters*C_in (+ filters).
        k.examples = {{{4, 4, 8}, "Conv2DTranspose(4, 3, strides = 2, padding = same)", {8, 8, 4}, 3 * 3 * 4 * 8 + 4},  // 292
                      {{3, 3, 2}, "Conv2DTranspose(3, 3)", {5, 5, 3}, 3 * 3 * 3 * 2 + 3},  // 3 + (3 - 1) = 5; 57
                      {{3, 4, 2}, "Conv2DTranspose(2, (3, 2), strides = 2)", {7, 8, 2}, 26},  // 3*2 + 1, 4*2 + 0
                      {{4, 4, 3}, "Conv2DTranspose(2, 4, strides = 2, padding = same, output_padding = 1)", {7, 7, 2}, 98},  // 3*2 + 4 - 4 + 1
                      {{5, 5, 2}, "Conv2DTranspose(3, 3, padding = same, dilation_rate = 2, use_bias = false)", {5, 5, 3}, 54},
                      {{3, 3, 2}, "Conv2DTranspose(2, 3, strides = 3, output_padding = 2, activation = relu)", {11, 11, 2}, 38}};  // 2*3 + 3 + 2
        return k;
    }();
    return k;
}

}  // namespace cnnc
