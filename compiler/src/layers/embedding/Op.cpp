// Embedding as an op: token ids (as floats) in, rows of the table out; only the table learns
// (Kernels.cpp).
#include "lower/Lowering.h"

namespace cnnc::engine {

namespace {

class EmbeddingOp : public rt::Op {
  public:
    EmbeddingOp(const LowerContext& ctx, int vocab, int dim) : vocab_(vocab), dim_(dim), cache_(&ctx.cache) {
        params = make_params(ctx);
        fwd_ = cache_->get(spec("embed_fwd"));
    }
    void prepare_backward(bool) override {
        if (!any_trainable(*this)) return;
        bwd_ = cache_->get(spec("embed_bwd"));
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override {
        fwd_->run({to_halide(x, {x.size()}), table(params[0].value.view())}, {to_halide(y, {x.size(), dim_})});
    }
    void backward(const rt::View& x, const rt::View&, const rt::View& dy, const rt::View*, bool, const rt::StepInfo&) override {
        // Token ids have no gradient; only the table learns.
        if (params[0].trainable) bwd_->run({to_halide(x, {x.size()}), to_halide(dy, {x.size(), dim_})}, {table(params[0].grad.view())});
    }

  private:
    KernelSpec spec(const char* name) const { return KernelSpec(name).set("vocab", vocab_).set("dim", dim_); }
    Buf table(const rt::View& v) const { return to_halide(v, {vocab_, dim_}); }
    int vocab_, dim_;
    KernelCache* cache_;
    std::shared_ptr<Kernel> fwd_, bwd_;
};

}  // namespace

std::unique_ptr<rt::Op> lower_Embedding(const LowerContext& ctx) {
    return std::make_unique<EmbeddingOp>(ctx, static_cast<int>(ctx.node.args.integer("input_dim")),
                                         static_cast<int>(ctx.node.args.integer("output_dim")));
}

}  // namespace cnnc::engine
