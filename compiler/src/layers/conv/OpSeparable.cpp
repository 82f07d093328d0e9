// SeparableConv2D as one op: a depthwise convolution (grouped, one group per input channel, no
// bias, no activation) into an intermediate tensor, then a 1x1 convolution with the layer's bias
// and activation. The intermediate is kept from the forward pass for the backward one.
#include "layers/conv/OpConv.h"

namespace cnnc::engine {

namespace {

class SeparableOp : public rt::Op {
  public:
    SeparableOp(const LowerContext& ctx, const ConvCfg& depthwise, const ConvCfg& pointwise)
        : depthwise_(ctx.cache, depthwise), pointwise_(ctx.cache, pointwise) {
        params = make_params(ctx);  // depthwise_kernel, pointwise_kernel[, bias]
        depthwise_.prepare_forward();
        pointwise_.prepare_forward();
    }
    bool owns_activation() const override { return true; }
    void prepare_backward(bool need_dx) override {
        depthwise_.prepare_backward(params[0].trainable, need_dx);
        // The depthwise part's gradients need dL/d(intermediate) whenever they are wanted.
        pointwise_.prepare_backward(params[1].trainable, params[0].trainable || need_dx);
    }

    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override {
        const ConvCfg& d = depthwise_.cfg();
        mid_.resize({x.shape[0], d.oh, d.ow, d.co});
        dmid_.resize(mid_.shape());
        depthwise_.forward(x, params[0].value.view(), nullptr, mid_.view());
        rt::View b = bias() ? bias()->value.view() : rt::View{};
        pointwise_.forward(mid_.view(), params[1].value.view(), bias() ? &b : nullptr, y);
    }

    void backward(const rt::View& x, const rt::View& y, const rt::View& dy, const rt::View* dx, bool logits,
                  const rt::StepInfo&) override {
        if (params[1].trainable) {
            rt::View db = bias() ? bias()->grad.view() : rt::View{};
            pointwise_.weight_gradient(mid_.view(), y, dy, params[1].grad.view(), bias() ? &db : nullptr, logits);
        }
        if (!params[0].trainable && !dx) return;
        pointwise_.input_gradient(params[1].value.view(), mid_.view(), y, dy, dmid_.view(), logits);
        // The depthwise part has no activation: its dL/dz is dmid, whatever its "output" argument.
        if (params[0].trainable) depthwise_.weight_gradient(x, mid_.view(), dmid_.view(), params[0].grad.view(), nullptr, false);
        if (dx) depthwise_.input_gradient(params[0].value.view(), x, mid_.view(), dmid_.view(), *dx, false);
    }

  private:
    rt::Param* bias() { return params.size() > 2 ? &params[2] : nullptr; }
    ConvKernels depthwise_, pointwise_;
    rt::Tensor mid_, dmid_;
};

}  // namespace

std::unique_ptr<rt::Op> lower_SeparableConv2D(const LowerContext& ctx) {
    const LayerNode& l = ctx.node;
    const int mid = static_cast<int>(l.in.back() * l.args.integer("depth_multiplier"));
    ConvCfg d = window_cfg(l, 2, mid);
    d.groups = d.ci, d.bias = false, d.act = "linear";
    ConvCfg p = window_cfg(l, 2, static_cast<int>(l.out.back()));
    p.ci = mid, p.w = p.ow, p.h = p.oh;
    p.kw = p.kh = p.sx = p.sy = p.dx = p.dy = 1;
    p.pl = p.pt = 0;
    return std::make_unique<SeparableOp>(ctx, d, p);
}

}  // namespace cnnc::engine
