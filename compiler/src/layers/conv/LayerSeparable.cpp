// DepthwiseConv2D and SeparableConv2D (Keras 3, channels last). A depthwise convolution slides
// `depth_multiplier` kernels over each input channel on its own: C * depth_multiplier outputs,
// output channel c * depth_multiplier + m from input channel c. A separable convolution is that,
// then a 1x1 convolution mixing the channels into `filters`.
#include <fmt/format.h>

#include "layers/conv/LayerWindow.h"

namespace cnnc {
using namespace layer_util;
using namespace conv_window;

namespace {

ParamSpec depth_multiplier() {
    return optional("depth_multiplier", ArgType::Int, I(1)).min(1).about("kernels per input channel");
}

// The depthwise kernel (kh, kw, C, depth_multiplier), Keras' layout.
Shape depthwise_shape(const BoundArgs& a, const Shape& in) {
    Shape s(a.ints("kernel_size"));
    s.dims.push_back(in.back());
    s.dims.push_back(a.integer("depth_multiplier"));
    return s;
}

// Multiply-adds of the depthwise step: one window per output value of C * depth_multiplier.
double depthwise_macs(const BoundArgs& a, const Shape& out_spatial_and_channels) {
    return double(out_spatial_and_channels.elements()) * double(product(a.ints("kernel_size")));
}

}  // namespace

const LayerKind& layer_DepthwiseConv2D() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "DepthwiseConv2D";
        k.doc = "2-D depthwise convolution: `depth_multiplier` kernels slid over each input channel separately";
        k.params = window_params(2);
        k.params.push_back(depth_multiplier());
        for (auto& p : format_and_dilation(2)) k.params.push_back(p);
        k.params.push_back(optional("activation", ArgType::Activation, none()));
        k.params.push_back(optional("use_bias", ArgType::Bool, B(true)));
        k.params.push_back(optional("depthwise_initializer", ArgType::Initializer, N("glorot_uniform")));
        k.params.push_back(optional("bias_initializer", ArgType::Initializer, N("zeros")));
        k.params.push_back(optional("depthwise_regularizer", ArgType::Regularizer, none()));
        k.params.push_back(optional("bias_regularizer", ArgType::Regularizer, none()));
        k.activation_arg = "activation";
        k.validate = strides_with_dilation;
        k.infer = [](const BoundArgs& a, const Shape& in) {
            return window_shape(a, in, 2, in.rank() == 3 ? in.back() * a.integer("depth_multiplier") : 0);
        };
        k.weights = [](const BoundArgs& a, const Shape& in) {
            // Keras 3 names the depthwise kernel "kernel" (Keras 2: "depthwise_kernel").
            std::vector<WeightSpec> w = {{"kernel", depthwise_shape(a, in), a.text("depthwise_initializer")}};
            if (a.flag("use_bias"))
                w.push_back({"bias", Shape{in.back() * a.integer("depth_multiplier")}, a.text("bias_initializer")});
            return w;
        };
        k.flops = [](const BoundArgs& a, const Shape&, const Shape& out) {
            return 2 * depthwise_macs(a, out) + (a.flag("use_bias") ? double(out.elements()) : 0.0);
        };
        // Parameter counts: kh*kw*C*dm (+ C*dm bias).
        k.examples = {{{8, 8, 16}, "DepthwiseConv2D(3)", {6, 6, 16}, 3 * 3 * 16 + 16},                                   // 160
                      {{7, 7, 8}, "DepthwiseConv2D(3, strides = 2, padding = same, use_bias = false)", {4, 4, 8}, 72},  // 3*3*8
                      {{6, 5, 3}, "DepthwiseConv2D((3, 2), depth_multiplier = 2)", {4, 4, 6}, 3 * 2 * 3 * 2 + 6},       // 42
                      {{9, 9, 4}, "DepthwiseConv2D(3, padding = same, dilation_rate = 2, activation = relu)", {9, 9, 4}, 40}};
        return k;
    }();
    return k;
}

const LayerKind& layer_SeparableConv2D() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "SeparableConv2D";
        k.doc = "2-D separable convolution: a depthwise convolution, then a 1x1 convolution into `filters` channels";
        k.params = {required("filters", ArgType::Int).min(1).about("number of output channels")};
        for (auto& p : window_params(2)) k.params.push_back(p);
        for (auto& p : format_and_dilation(2)) k.params.push_back(p);
        k.params.push_back(depth_multiplier());
        k.params.push_back(optional("activation", ArgType::Activation, none()));
        k.params.push_back(optional("use_bias", ArgType::Bool, B(true)));
        k.params.push_back(optional("depthwise_initializer", ArgType::Initializer, N("glorot_uniform")));
        k.params.push_back(optional("pointwise_initializer", ArgType::Initializer, N("glorot_uniform")));
        k.params.push_back(optional("bias_initializer", ArgType::Initializer, N("zeros")));
        k.params.push_back(optional("depthwise_regularizer", ArgType::Regularizer, none()));
        k.params.push_back(optional("pointwise_regularizer", ArgType::Regularizer, none()));
        k.params.push_back(optional("bias_regularizer", ArgType::Regularizer, none()));
        k.activation_arg = "activation";
        k.validate = strides_with_dilation;
        k.infer = [](const BoundArgs& a, const Shape& in) { return window_shape(a, in, 2, a.integer("filters")); };
        k.weights = [](const BoundArgs& a, const Shape& in) {
            const int64_t mid = in.back() * a.integer("depth_multiplier"), filters = a.integer("filters");
            std::vector<WeightSpec> w = {{"depthwise_kernel", depthwise_shape(a, in), a.text("depthwise_initializer")},
                                         {"pointwise_kernel", Shape{1, 1, mid, filters}, a.text("pointwise_initializer")}};
            if (a.flag("use_bias")) w.push_back({"bias", Shape{filters}, a.text("bias_initializer")});
            return w;
        };
        k.flops = [](const BoundArgs& a, const Shape& in, const Shape& out) {
            const int64_t mid = in.back() * a.integer("depth_multiplier");
            Shape depthwise_out{out[0], out[1], mid};
            double pointwise_macs = double(out.elements()) * double(mid);
            return 2 * (depthwise_macs(a, depthwise_out) + pointwise_macs) + (a.flag("use_bias") ? double(out.elements()) : 0.0);
        };
        // Parameter counts: kh*kw*C*dm + C*dm*filters (+ filters bias).
        k.examples = {{{32, 32, 32}, "SeparableConv2D(64, 3)", {30, 30, 64}, 3 * 3 * 32 + 32 * 64 + 64},  // 2,400
                      {{7, 7, 4}, "SeparableConv2D(8, 3, padding = same, use_bias = false)", {7, 7, 8}, 3 * 3 * 4 + 4 * 8},  // 68
                      {{8, 8, 3}, "SeparableConv2D(5, 3, strides = 2, depth_multiplier = 2, activation = relu)", {3, 3, 5},
                       3 * 3 * 3 * 2 + 6 * 5 + 5}};  // 89
        return k;
    }();
    return k;
}

}  // namespace cnnc
