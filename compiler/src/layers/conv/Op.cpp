// Conv1D/Conv2D as an op: the layer's arguments become a ConvCfg (Conv1D is Conv2D with height 1)
// and the op runs the conv_fwd / conv_bwd_w / conv_bwd_x kernels (Kernels.cpp).
#include "layers/conv/Config.h"
#include "lower/Fold.h"
#include "lower/Lowering.h"

namespace cnnc::engine {

namespace {

// Keras 'same': the total padding is what makes ceil(n / s) outputs, the odd pixel after.
int pad_before(int n, int out, int k, int s, int d) { return std::max((out - 1) * s + (k - 1) * d + 1 - n, 0) / 2; }

class ConvOp : public rt::Op, public FoldsAffine {
  public:
    ConvOp(const LowerContext& ctx, ConvCfg cfg) : cfg_(std::move(cfg)), cache_(&ctx.cache) {
        params = make_params(ctx);
        fwd_ = ctx.cache.get(cfg_.spec("conv_fwd"));
        if (!cfg_.bias) zero_bias_ = rt::Tensor({cfg_.co});
        if (!cfg_.bias) zero_bias_.fill(0), db_scratch_ = rt::Tensor({cfg_.co});
    }
    bool owns_activation() const override { return true; }
    void prepare_backward(bool need_dx) override {
        if (any_trainable(*this)) bwd_w_ = cache_->get(cfg_.spec("conv_bwd_w"));
        if (need_dx) bwd_x_ = cache_->get(cfg_.spec("conv_bwd_x"));
    }

    KernelSpec folded_spec() const override {
        ConvCfg biased = cfg_;
        biased.bias = true;
        return biased.spec("conv_fwd");
    }

    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo& s) override {
        if (run_folded(s, params[0].value, cfg_.bias ? &params[1].value : nullptr)) {  // the BatchNormalization after it, folded in
            folded_fwd_->run({image(x, cfg_.ci, cfg_.w, cfg_.h), kernel_of(fold_.kernel.view()), to_halide(fold_.bias.view())},
                             {image(y, cfg_.co, cfg_.ow, cfg_.oh)});
            return;
        }
        fwd_->run({image(x, cfg_.ci, cfg_.w, cfg_.h), kernel(), bias()}, {image(y, cfg_.co, cfg_.ow, cfg_.oh)});
    }

    void backward(const rt::View& x, const rt::View& y, const rt::View& dy, const rt::View* dx, bool logits,
                  const rt::StepInfo&) override {
        auto hy = image(y, cfg_.co, cfg_.ow, cfg_.oh), hdy = image(dy, cfg_.co, cfg_.ow, cfg_.oh);
        if (params[0].trainable) {
            rt::View dbv = cfg_.bias ? params[1].grad.view() : db_scratch_.view();
            rt::View dw = params[0].grad.view();
            bwd_w_->run({image(x, cfg_.ci, cfg_.w, cfg_.h), hy, hdy},
                        {to_halide(dw, {cfg_.ci * cfg_.kw * cfg_.kh, cfg_.co}), to_halide(dbv)}, {logits ? 1 : 0});
        }
        if (dx) bwd_x_->run({kernel(), hy, hdy}, {image(*dx, cfg_.ci, cfg_.w, cfg_.h)}, {logits ? 1 : 0});
    }

  private:
    // (N, H, W, C) or (N, steps, C) as Halide (C, W, H, N).
    static Buf image(const rt::View& v, int c, int w, int h) {
        return to_halide(v, {v.shape[0], h, w, c});
    }
    Buf kernel_of(const rt::View& v) const { return to_halide(v, {cfg_.kh, cfg_.kw, cfg_.ci, cfg_.co}); }
    Buf kernel() { return kernel_of(params[0].value.view()); }
    Buf bias() { return to_halide(cfg_.bias ? params[1].value.view() : zero_bias_.view()); }

    ConvCfg cfg_;
    KernelCache* cache_;
    std::shared_ptr<Kernel> fwd_, bwd_w_, bwd_x_;
    rt::Tensor zero_bias_, db_scratch_;
};

std::unique_ptr<rt::Op> lower_conv(const LowerContext& ctx, int rank) {
    const LayerNode& l = ctx.node;
    const BoundArgs& a = l.args;
    auto ks = a.ints("kernel_size"), st = a.ints("strides"), dl = a.ints("dilation_rate");
    ConvCfg c;
    c.ci = static_cast<int>(l.in.back());
    c.co = static_cast<int>(l.out.back());
    if (rank == 2) {
        c.h = static_cast<int>(l.in[0]), c.w = static_cast<int>(l.in[1]);
        c.oh = static_cast<int>(l.out[0]), c.ow = static_cast<int>(l.out[1]);
        c.kh = static_cast<int>(ks[0]), c.kw = static_cast<int>(ks[1]);
        c.sy = static_cast<int>(st[0]), c.sx = static_cast<int>(st[1]);
        c.dy = static_cast<int>(dl[0]), c.dx = static_cast<int>(dl[1]);
    } else {
        c.h = c.oh = 1, c.kh = 1, c.sy = 1, c.dy = 1;
        c.w = static_cast<int>(l.in[0]), c.ow = static_cast<int>(l.out[0]);
        c.kw = static_cast<int>(ks[0]), c.sx = static_cast<int>(st[0]), c.dx = static_cast<int>(dl[0]);
    }
    bool same = a.text("padding") == "same";
    c.pl = same ? pad_before(c.w, c.ow, c.kw, c.sx, c.dx) : 0;
    c.pt = same ? pad_before(c.h, c.oh, c.kh, c.sy, c.dy) : 0;
    c.bias = a.flag("use_bias");
    c.act = fused_activation(l);
    return std::make_unique<ConvOp>(ctx, c);
}

}  // namespace

std::unique_ptr<rt::Op> lower_Conv1D(const LowerContext& ctx) { return lower_conv(ctx, 1); }
std::unique_ptr<rt::Op> lower_Conv2D(const LowerContext& ctx) { return lower_conv(ctx, 2); }

}  // namespace cnnc::engine
