// Conv1D, Conv2D and DepthwiseConv2D as an op: the layer's arguments become a ConvCfg (Conv1D is
// Conv2D with height 1; a depthwise convolution is grouped, one group per input channel) and the
// op runs the conv_fwd / conv_bwd_w / conv_bwd_x kernels (Kernels.cpp) through ConvKernels.
#include "ir/Activation.h"
#include "layers/conv/OpConv.h"
#include "lower/Fold.h"

namespace cnnc::engine {

namespace {

class ConvOp : public rt::Op, public FoldsAffine {
  public:
    // The forward kernel is made by prepare_forward, once the network has said whether this op
    // pools its output (an op run alone makes the plain one at its first forward).
    ConvOp(const LowerContext& ctx, const ConvCfg& cfg) : conv_(ctx.cache, cfg) { params = make_params(ctx); }
    void prepare_forward() override { conv_.prepare_forward(); }
    // Op::tiled_max_pooling's fusion: conv_fwd pools each task's rows while they are in L1.
    bool accepts_output_pooling(const rt::TiledMaxPool& w) const override {
        const ConvCfg& c = conv_.cfg();
        return c.groups == 1 && !activation_traits(c.act).across_channels && c.ow / w.pw >= 1 && c.oh / w.ph >= 1;
    }
    void set_output_pooling(const rt::TiledMaxPool& w) override { conv_.set_output_pooling(w.pw, w.ph); }
    bool owns_activation() const override { return true; }
    std::string output_activation() const override { return derivative_from_output(conv_.cfg().act); }
    void set_preactivation_gradient(bool on) override { given_dz_ = on; }
    // The input-gradient kernel applies it as it stores each tile (conv_bwd_x's input_act).
    bool accepts_input_activation(const std::string&) const override { return true; }
    void set_input_activation(const std::string& act) override { conv_.set_input_activation(act); }
    void prepare_backward(bool need_dx) override { conv_.prepare_backward(any_trainable(*this), need_dx, given_dz_); }

    KernelSpec folded_spec() const override {
        ConvCfg biased = conv_.cfg();
        biased.bias = true;
        return biased.spec("conv_fwd");
    }

    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo& s) override {
        const ConvCfg& c = conv_.cfg();
        // The BatchNormalization after it, folded in. A depthwise kernel (kh, kw, C, multiplier)
        // holds its output channels c * multiplier + m last, as a plain one (.., C_out) does.
        if (run_folded(s, params[0].value, bias_param() ? &bias_param()->value : nullptr, c.co)) {
            folded_fwd_->run({ConvKernels::image(x, c.ci, c.w, c.h), conv_.kernel(fold_.kernel.view()), to_halide(fold_.bias.view())},
                             {ConvKernels::image(y, c.co, c.ow, c.oh)});
            return;
        }
        rt::View b = bias_param() ? bias_param()->value.view() : rt::View{};
        conv_.forward(x, params[0].value.view(), bias_param() ? &b : nullptr, y);
    }

    void backward(const rt::View& x, const rt::View& y, const rt::View& dy, const rt::View* dx, bool logits,
                  const rt::StepInfo&) override {
        if (params[0].trainable) {
            rt::View db = bias_param() ? bias_param()->grad.view() : rt::View{};
            conv_.weight_gradient(x, y, dy, params[0].grad.view(), bias_param() ? &db : nullptr, logits);
        }
        if (dx) conv_.input_gradient(params[0].value.view(), x, y, dy, *dx, logits);
    }

  private:
    rt::Param* bias_param() { return params.size() > 1 ? &params[1] : nullptr; }
    ConvKernels conv_;
    bool given_dz_ = false;
};

}  // namespace

std::unique_ptr<rt::Op> lower_Conv1D(const LowerContext& ctx) {
    const BoundArgs& a = ctx.node.args;
    ConvCfg c = window_cfg(ctx.node, 1, static_cast<int>(ctx.node.out.back()));
    c.groups = static_cast<int>(a.integer("groups"));
    if (a.text("padding") == "causal") c.pl = c.dx * (c.kw - 1);  // all the padding before: no step sees the future
    return std::make_unique<ConvOp>(ctx, c);
}

std::unique_ptr<rt::Op> lower_Conv2D(const LowerContext& ctx) {
    ConvCfg c = window_cfg(ctx.node, 2, static_cast<int>(ctx.node.out.back()));
    c.groups = static_cast<int>(ctx.node.args.integer("groups"));
    return std::make_unique<ConvOp>(ctx, c);
}

std::unique_ptr<rt::Op> lower_DepthwiseConv2D(const LowerContext& ctx) {
    ConvCfg c = window_cfg(ctx.node, 2, static_cast<int>(ctx.node.out.back()));
    c.groups = c.ci;
    auto op = std::make_unique<ConvOp>(ctx, c);
    // Keras 3 names the weight "kernel", but its regularizer is depthwise_regularizer.
    regularizer_penalties(ctx.node.args.get("depthwise_regularizer"), op->params[0]);
    return op;
}

}  // namespace cnnc::engine
