// Max and average pooling (1-D as 2-D with height 1) and global pooling in Halide. Max pooling's
// gradient goes to exactly one input per window — the first maximum, as the frameworks do — found
// by an explicit argmax rather than a max tree (which would split it among ties).
#include <fmt/format.h>

#include "lower/Lowering.h"
#include "lower/Schedule.h"

namespace cnnc::engine {
using namespace Halide;

namespace {

struct PoolCfg {
    bool max;
    int c, w, h, ow, oh, pw, ph, sx, sy, pl, pt;
    std::string key() const {
        return fmt::format("{}|{}x{}x{}>{}x{}|p{}x{}|s{}x{}|o{}x{}", max ? "max" : "avg", c, w, h, ow, oh, pw, ph, sx, sy, pl, pt);
    }
};

// Window (kx, ky) of output (x, y) reads input (x*sx + kx - pl, y*sy + ky - pt); `inside` says
// whether that input exists (same padding reaches past the edges).
Expr inside(const PoolCfg& c, Expr ix, Expr iy) { return ix >= 0 && ix < c.w && iy >= 0 && iy < c.h; }

Kernel pool_forward(const PoolCfg& c) {
    Kernel k;
    ImageParam in(Float(32), 4, "in");
    dense_layout(in, {c.c, c.w, c.h, 0});
    Var ch("c"), x("x"), y("y"), n("n");
    Func src("src");
    src(ch, x, y, n) = BoundaryConditions::constant_exterior(in, c.max ? Float(32).min() : 0.f, {{0, c.c}, {0, c.w}, {0, c.h}})(
        ch, x, y, n);
    Func out("pool");
    RDom r(0, c.pw, 0, c.ph, "r");
    Expr ix = x * c.sx + r.x - c.pl, iy = y * c.sy + r.y - c.pt;
    if (c.max) {
        out(ch, x, y, n) = maximum(src(ch, ix, iy, n));
    } else {
        // TF/Keras average only over the window's cells inside the image.
        Expr count = sum(select(inside(c, ix, iy), 1.f, 0.f));
        out(ch, x, y, n) = sum(src(ch, ix, iy, n)) / count;
    }
    int vec = sched::vector_width(c.c);
    out.vectorize(ch, vec).parallel(n);
    k.pipeline = Pipeline(out);
    k.inputs = {in};
    return k;
}

Kernel pool_backward(const PoolCfg& c) {
    Kernel k;
    ImageParam in(Float(32), 4, "in"), yout(Float(32), 4, "y"), dy(Float(32), 4, "dy");
    dense_layout(in, {c.c, c.w, c.h, 0});
    dense_layout(yout, {c.c, c.ow, c.oh, 0});
    dense_layout(dy, {c.c, c.ow, c.oh, 0});
    Var ch("c"), x("x"), y("y"), n("n");
    Func src("src");
    src(ch, x, y, n) = BoundaryConditions::constant_exterior(in, Float(32).min(), {{0, c.c}, {0, c.w}, {0, c.h}})(ch, x, y, n);
    Func dyb = BoundaryConditions::constant_exterior(dy, 0.f, {{0, c.c}, {0, c.ow}, {0, c.oh}});
    // Each input cell sums the gradients of the windows that chose it (max) or contain it (avg).
    if (c.max && c.sx == c.pw && c.sy == c.ph && c.pl == 0 && c.pt == 0) {
        // Windows tile the image (the usual 2x2 at stride 2): a cell belongs to one window at most,
        // and it receives the window's gradient when it holds the maximum (the forward output) and
        // no earlier cell of the window does. No argmax buffer, one pass.
        Expr ox = x / c.sx, oy = y / c.sy;
        Expr cx = min(ox, c.ow - 1), cy = min(oy, c.oh - 1);
        Expr m = yout(ch, cx, cy, n);
        Expr pos = (x - ox * c.sx) + (y - oy * c.sy) * c.pw;
        Expr earlier = Internal::const_false();
        for (int q = 0; q + 1 < c.pw * c.ph; ++q)
            earlier = earlier || (pos > q && in(ch, cx * c.sx + q % c.pw, cy * c.sy + q / c.pw, n) == m);
        Expr valid = ox < c.ow && oy < c.oh;
        Func dx("dx");
        dx(ch, x, y, n) = select(valid && in(ch, x, y, n) == m && !earlier, dy(ch, cx, cy, n), 0.f);
        dx.vectorize(ch, sched::vector_width(c.c)).parallel(n);
        k.pipeline = Pipeline(dx);
        k.inputs = {in, yout, dy};
        return k;
    }
    Func arg("argmax");
    if (c.max) {
        RDom r(0, c.pw, 0, c.ph, "r");
        Tuple am = argmax(src(ch, x * c.sx + r.x - c.pl, y * c.sy + r.y - c.pt, n));
        arg(ch, x, y, n) = am[0] + am[1] * c.pw;  // first maximum in row-major window order
        arg.compute_root().vectorize(ch, sched::vector_width(c.c)).parallel(n);
    }
    // Each input cell sums the gradients of the windows that chose it (max) or contain it (avg).
    Expr g = 0.f;
    for (int ky = 0; ky < c.ph; ++ky)
        for (int kx = 0; kx < c.pw; ++kx) {
            Expr ex = x + c.pl - kx, ey = y + c.pt - ky;
            Expr ox = ex / c.sx, oy = ey / c.sy;
            Expr valid = ex % c.sx == 0 && ey % c.sy == 0 && ox >= 0 && ox < c.ow && oy >= 0 && oy < c.oh;
            Expr cx = clamp(ox, 0, c.ow - 1), cy = clamp(oy, 0, c.oh - 1);
            if (c.max) {
                g += select(valid && arg(ch, cx, cy, n) == kx + ky * c.pw, dyb(ch, cx, cy, n), 0.f);
            } else {
                // The window's size inside the image, as in the forward.
                Expr x0 = cx * c.sx - c.pl, y0 = cy * c.sy - c.pt;
                Expr cnt = (min(x0 + c.pw, c.w) - max(x0, 0)) * (min(y0 + c.ph, c.h) - max(y0, 0));
                g += select(valid, dyb(ch, cx, cy, n) / cast<float>(cnt), 0.f);
            }
        }
    Func dx("dx");
    dx(ch, x, y, n) = g;
    dx.vectorize(ch, sched::vector_width(c.c)).parallel(n);
    k.pipeline = Pipeline(dx);
    k.inputs = {in, yout, dy};
    return k;
}

class PoolOp : public rt::Op {
  public:
    PoolOp(const LowerContext& ctx, PoolCfg c) : c_(std::move(c)), cache_(&ctx.cache) {
        fwd_ = cache_->get("pool_fwd|" + c_.key(), [&] { return pool_forward(c_); });
    }
    void prepare_backward(bool need_dx) override {
        if (need_dx) bwd_ = cache_->get("pool_bwd|" + c_.key(), [&] { return pool_backward(c_); });
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override {
        fwd_->run({image(x, c_.w, c_.h)}, {image(y, c_.ow, c_.oh)});
    }
    void backward(const rt::View& x, const rt::View& y, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo&) override {
        if (dx) bwd_->run({image(x, c_.w, c_.h), image(y, c_.ow, c_.oh), image(dy, c_.ow, c_.oh)}, {image(*dx, c_.w, c_.h)});
    }

  private:
    Buffer<float> image(const rt::View& v, int w, int h) const { return to_halide(v, {v.shape[0], h, w, c_.c}); }
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

// Global pooling: every spatial position of a channel reduced to one value.
struct GlobalCfg {
    bool max;
    int c, positions;  // positions: H*W (or steps)
    std::string key() const { return fmt::format("{}|{}x{}", max ? "max" : "avg", c, positions); }
};

Kernel global_forward(const GlobalCfg& c) {
    Kernel k;
    ImageParam in(Float(32), 3, "in");
    dense_layout(in, {c.c, c.positions, 0});
    Var ch("c"), n("n");
    RDom r(0, c.positions, "r");
    Func out("global");
    if (c.max) out(ch, n) = maximum(in(ch, r, n));
    else out(ch, n) = sum(in(ch, r, n)) / static_cast<float>(c.positions);
    out.vectorize(ch, sched::vector_width(c.c)).parallel(n);
    k.pipeline = Pipeline(out);
    k.inputs = {in};
    return k;
}

Kernel global_backward(const GlobalCfg& c) {
    Kernel k;
    ImageParam in(Float(32), 3, "in"), dy(Float(32), 2, "dy");
    dense_layout(in, {c.c, c.positions, 0});
    dense_layout(dy, {c.c, 0});
    Var ch("c"), p("p"), n("n");
    Func dx("dx");
    if (c.max) {
        RDom r(0, c.positions, "r");
        Func arg("argmax");
        arg(ch, n) = argmax(in(ch, r, n))[0];
        arg.compute_root().vectorize(ch, sched::vector_width(c.c));
        dx(ch, p, n) = select(arg(ch, n) == p, dy(ch, n), 0.f);
    } else {
        dx(ch, p, n) = dy(ch, n) / static_cast<float>(c.positions);
    }
    dx.vectorize(ch, sched::vector_width(c.c)).parallel(n);
    k.pipeline = Pipeline(dx);
    k.inputs = {in, dy};
    return k;
}

class GlobalPoolOp : public rt::Op {
  public:
    GlobalPoolOp(const LowerContext& ctx, GlobalCfg c) : c_(std::move(c)), cache_(&ctx.cache) {
        fwd_ = cache_->get("global_fwd|" + c_.key(), [&] { return global_forward(c_); });
    }
    void prepare_backward(bool need_dx) override {
        if (need_dx) bwd_ = cache_->get("global_bwd|" + c_.key(), [&] { return global_backward(c_); });
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override {
        fwd_->run({positions(x)}, {rows(y)});
    }
    void backward(const rt::View& x, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo&) override {
        if (dx) bwd_->run({positions(x), rows(dy)}, {positions(*dx)});
    }

  private:
    Buffer<float> positions(const rt::View& v) const { return to_halide(v, {v.shape[0], c_.positions, c_.c}); }
    Buffer<float> rows(const rt::View& v) const { return to_halide(v, {v.shape[0], c_.c}); }
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
