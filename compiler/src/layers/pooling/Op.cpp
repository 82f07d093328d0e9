// Pooling layers as ops: windowed max/average and global pooling (Kernels.cpp).
#include "layers/pooling/Config.h"
#include "lower/Lowering.h"

namespace cnnc::engine {

namespace {

class PoolOp : public rt::Op {
  public:
    // The forward kernel is made by prepare_forward: none where the stage before does the pooling
    // (an op run alone makes it at its first forward).
    PoolOp(const LowerContext& ctx, PoolCfg c) : c_(std::move(c)), cache_(&ctx.cache) {}
    void prepare_forward() override { fwd_ = cache_->get(c_.spec("pool_fwd")); }
    // Windows that tile the input (stride = window, no padding) can be pooled by the stage that
    // makes the input, as it makes it (Op::tiled_max_pooling); this op then runs nothing.
    rt::TiledMaxPool tiled_max_pooling() const override {
        // (A 'same' window past the edge is no tile: the fused kernels make w / pw windows.)
        if (!c_.max || c_.sx != c_.pw || c_.sy != c_.ph || c_.pl != 0 || c_.pt != 0 || c_.ow != c_.w / c_.pw || c_.oh != c_.h / c_.ph) return {};
        return {c_.pw, c_.ph};
    }
    // Any activation a producer offers (Op::output_activation): pool_bwd multiplies by its
    // derivative as it writes each input cell.
    bool accepts_input_activation(const std::string&) const override { return true; }
    void set_input_activation(const std::string& act) override { c_.input_act = act; }
    void prepare_backward(bool need_dx) override {
        if (need_dx) bwd_ = cache_->get(c_.spec("pool_bwd"));
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override {
        if (!fwd_) prepare_forward();
        fwd_->run({image(x, c_.w, c_.h)}, {image(y, c_.ow, c_.oh)});
    }
    void backward(const rt::View& x, const rt::View& y, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo&) override {
        if (dx) bwd_->run({image(x, c_.w, c_.h), image(y, c_.ow, c_.oh), image(dy, c_.ow, c_.oh)}, {image(*dx, c_.w, c_.h)});
    }

  private:
    Buf image(const rt::View& v, int w, int h) const { return to_halide(v, {v.shape[0], h, w, c_.c}); }
    PoolCfg c_;
    KernelCache* cache_;
    std::shared_ptr<Kernel> fwd_, bwd_;
};

int pad_before(int n, int out, int k, int s) { return std::max((out - 1) * s + k - n, 0) / 2; }

std::unique_ptr<rt::Op> lower_pool(const LowerContext& ctx, bool is_max, int rank) {
    const LayerNode& l = ctx.node;
    auto ps = l.args.ints("pool_size");
    auto st = l.args.is_none("strides") ? ps : l.args.ints("strides");
    PoolCfg c;
    c.max = is_max;
    c.c = static_cast<int>(l.in.back());
    if (rank == 2) {
        c.h = static_cast<int>(l.in[0]), c.w = static_cast<int>(l.in[1]);
        c.oh = static_cast<int>(l.out[0]), c.ow = static_cast<int>(l.out[1]);
        c.ph = static_cast<int>(ps[0]), c.pw = static_cast<int>(ps[1]);
        c.sy = static_cast<int>(st[0]), c.sx = static_cast<int>(st[1]);
    } else {
        c.h = c.oh = c.ph = c.sy = 1;
        c.w = static_cast<int>(l.in[0]), c.ow = static_cast<int>(l.out[0]);
        c.pw = static_cast<int>(ps[0]), c.sx = static_cast<int>(st[0]);
    }
    bool same = l.args.text("padding") == "same";
    c.pl = same ? pad_before(c.w, c.ow, c.pw, c.sx) : 0;
    c.pt = same ? pad_before(c.h, c.oh, c.ph, c.sy) : 0;
    return std::make_unique<PoolOp>(ctx, c);
}

class GlobalPoolOp : public rt::Op {
  public:
    GlobalPoolOp(const LowerContext& ctx, GlobalCfg c) : c_(std::move(c)), cache_(&ctx.cache) {
        fwd_ = cache_->get(c_.spec("global_fwd"));
    }
    bool accepts_input_activation(const std::string&) const override { return true; }
    void set_input_activation(const std::string& act) override { c_.input_act = act; }
    void prepare_backward(bool need_dx) override {
        if (need_dx) bwd_ = cache_->get(c_.spec("global_bwd"));
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override {
        fwd_->run({positions(x)}, {rows(y)});
    }
    void backward(const rt::View& x, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo&) override {
        if (dx) bwd_->run({positions(x), rows(dy)}, {positions(*dx)});
    }

  private:
    Buf positions(const rt::View& v) const { return to_halide(v, {v.shape[0], c_.positions, c_.c}); }
    Buf rows(const rt::View& v) const { return to_halide(v, {v.shape[0], c_.c}); }
    GlobalCfg c_;
    KernelCache* cache_;
    std::shared_ptr<Kernel> fwd_, bwd_;
};

std::unique_ptr<rt::Op> lower_global(const LowerContext& ctx, bool is_max) {
    GlobalCfg c;
    c.max = is_max;
    c.c = static_cast<int>(ctx.node.in.back());
    c.positions = static_cast<int>(ctx.node.in.elements() / c.c);
    return std::make_unique<GlobalPoolOp>(ctx, c);
}

}  // namespace

std::unique_ptr<rt::Op> lower_MaxPooling1D(const LowerContext& c) { return lower_pool(c, true, 1); }
std::unique_ptr<rt::Op> lower_MaxPooling2D(const LowerContext& c) { return lower_pool(c, true, 2); }
std::unique_ptr<rt::Op> lower_AveragePooling1D(const LowerContext& c) { return lower_pool(c, false, 1); }
std::unique_ptr<rt::Op> lower_AveragePooling2D(const LowerContext& c) { return lower_pool(c, false, 2); }
std::unique_ptr<rt::Op> lower_GlobalMaxPooling1D(const LowerContext& c) { return lower_global(c, true); }
std::unique_ptr<rt::Op> lower_GlobalMaxPooling2D(const LowerContext& c) { return lower_global(c, true); }
std::unique_ptr<rt::Op> lower_GlobalAveragePooling1D(const LowerContext& c) { return lower_global(c, false); }
std::unique_ptr<rt::Op> lower_GlobalAveragePooling2D(const LowerContext& c) { return lower_global(c, false); }

}  // namespace cnnc::engine
