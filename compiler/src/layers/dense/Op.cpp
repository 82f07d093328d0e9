// Dense as an op: rows of `in` values in, rows of `units` out (Kernels.cpp).
#include "layers/dense/Config.h"
#include "lower/Fold.h"
#include "lower/Lowering.h"

namespace cnnc::engine {

namespace {

class DenseOp : public rt::Op, public FoldsAffine {
  public:
    DenseOp(const LowerContext& ctx, DenseCfg c) : c_(std::move(c)), cache_(&ctx.cache) {
        params = make_params(ctx);
        fwd_ = cache_->get(c_.spec("dense_fwd"));
        if (!c_.bias) zero_bias_ = rt::Tensor({c_.units}), zero_bias_.fill(0), db_scratch_ = rt::Tensor({c_.units});
    }
    bool owns_activation() const override { return true; }
    void prepare_backward(bool need_dx) override {
        if (any_trainable(*this)) bwd_w_ = cache_->get(c_.spec("dense_bwd_w"));
        if (need_dx) bwd_x_ = cache_->get(c_.spec("dense_bwd_x"));
    }
    KernelSpec folded_spec() const override {
        DenseCfg biased = c_;
        biased.bias = true;
        return biased.spec("dense_fwd");
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo& s) override {
        if (run_folded(s, params[0].value, c_.bias ? &params[1].value : nullptr, c_.units)) {  // the BatchNormalization after it, folded in
            folded_fwd_->run({rows(x, c_.in), weights(fold_.kernel.view()), to_halide(fold_.bias.view())}, {rows(y, c_.units)});
            return;
        }
        fwd_->run({rows(x, c_.in), weights(params[0].value.view()), bias()}, {rows(y, c_.units)});
    }
    void backward(const rt::View& x, const rt::View& y, const rt::View& dy, const rt::View* dx, bool logits,
                  const rt::StepInfo&) override {
        auto hy = rows(y, c_.units), hdy = rows(dy, c_.units);
        if (params[0].trainable)
            bwd_w_->run({rows(x, c_.in), hy, hdy},
                        {weights(params[0].grad.view()), to_halide(c_.bias ? params[1].grad.view() : db_scratch_.view())},
                        {logits ? 1 : 0});
        if (dx) bwd_x_->run({weights(params[0].value.view()), hy, hdy}, {rows(*dx, c_.in)}, {logits ? 1 : 0});
    }

  private:
    static Buf rows(const rt::View& v, int width) { return to_halide(v, {v.size() / width, width}); }
    Buf weights(const rt::View& v) const { return to_halide(v, {c_.in, c_.units}); }
    Buf bias() { return to_halide(c_.bias ? params[1].value.view() : zero_bias_.view()); }
    DenseCfg c_;
    KernelCache* cache_;
    std::shared_ptr<Kernel> fwd_, bwd_w_, bwd_x_;
    rt::Tensor zero_bias_, db_scratch_;
};

}  // namespace

std::unique_ptr<rt::Op> lower_Dense(const LowerContext& ctx) {
    const BoundArgs& a = ctx.node.args;
    DenseCfg c;
    c.in = static_cast<int>(ctx.node.in.back());
    c.units = static_cast<int>(a.integer("units"));
    c.bias = a.flag("use_bias");
    c.act = fused_activation(ctx.node);
    return std::make_unique<DenseOp>(ctx, c);
}

}  // namespace cnnc::engine
