// Embedding in Halide: a gather of rows by token id, and a scatter-add of the output gradient into
// the rows that were used. Ids arrive as floats (the runtime's one tensor type), exact up to 2^24.
#include <fmt/format.h>

#include "lower/Lowering.h"
#include "lower/Schedule.h"

namespace cnnc::engine {
using namespace Halide;

namespace {

class EmbeddingOp : public rt::Op {
  public:
    EmbeddingOp(const LowerContext& ctx, int vocab, int dim) : vocab_(vocab), dim_(dim), cache_(&ctx.cache) {
        params = make_params(ctx);
        fwd_ = cache_->get(fmt::format("embed_fwd|{}x{}", vocab_, dim_), [&] {
            Kernel k;
            ImageParam ids(Float(32), 1, "ids"), e(Float(32), 2, "e");
            dense_layout(e, {dim_, vocab_});
            Var d("d"), t("t");
            Func out("embed");
            out(d, t) = e(d, clamp(cast<int>(ids(t)), 0, vocab_ - 1));
            Var to("to"), ti("ti");  // GuardWithIf: a short sequence must not be shifted out of its buffer
            out.vectorize(d, sched::vector_width(dim_)).split(t, to, ti, 64, TailStrategy::GuardWithIf).parallel(to);
            k.pipeline = Pipeline(out);
            k.inputs = {ids, e};
            return k;
        });
    }
    void prepare_backward(bool) override {
        if (!any_trainable(*this)) return;
        bwd_ = cache_->get(fmt::format("embed_bwd|{}x{}", vocab_, dim_), [&] {
            Kernel k;
            ImageParam ids(Float(32), 1, "ids"), dy(Float(32), 2, "dy");
            dense_layout(dy, {dim_, 0});
            Var d("d"), v("v");
            RDom r(0, ids.dim(0).extent(), "r");
            Func acc("de_acc"), de("de");
            acc(d, v) = 0.f;
            acc(d, clamp(cast<int>(ids(r)), 0, vocab_ - 1)) += dy(d, r);
            de(d, v) = acc(d, v);
            de.output_buffer().dim(1).set_bounds(0, vocab_);
            acc.compute_root().vectorize(d, sched::vector_width(dim_)).update().vectorize(d, sched::vector_width(dim_));
            k.pipeline = Pipeline(de);
            k.inputs = {ids, dy};
            return k;
        });
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override {
        fwd_->run({to_halide(x, {x.size()}), table(params[0].value.view())}, {to_halide(y, {x.size(), dim_})});
    }
    void backward(const rt::View& x, const rt::View&, const rt::View& dy, const rt::View*, bool, const rt::StepInfo&) override {
        // Token ids have no gradient; only the table learns.
        if (params[0].trainable) bwd_->run({to_halide(x, {x.size()}), to_halide(dy, {x.size(), dim_})}, {table(params[0].grad.view())});
    }

  private:
    Buffer<float> table(const rt::View& v) const { return to_halide(v, {vocab_, dim_}); }
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
