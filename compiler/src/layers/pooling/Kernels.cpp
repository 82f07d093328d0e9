// Max and average pooling (1-D as 2-D with height 1) and global pooling in Halide. Max pooling's
// gradient goes to exactly one input per window — the first maximum, as the frameworks do — found
// by an explicit argmax rather than a max tree (which would split it among ties).
#include "kernels/Activation.h"
#include "kernels/KernelDef.h"
#include "kernels/Schedule.h"
#include "layers/pooling/Config.h"

namespace cnnc::engine {
using namespace Halide;

namespace {

// Window (kx, ky) of output (x, y) reads input (x*sx + kx - pl, y*sy + ky - pt); `inside` says
// whether that input exists (same padding reaches past the edges).
Expr inside(const PoolCfg& c, Expr ix, Expr iy) { return ix >= 0 && ix < c.w && iy >= 0 && iy < c.h; }

KernelDef pool_forward(const PoolCfg& c) {
    KernelDef k;
    ImageParam in(Float(32), 4, "in");
    dense_layout(in, {c.c, c.w, c.h, 0});
    Var ch("c"), x("x"), y("y"), n("n");
    Func src("src");
    src(ch, x, y, n) = BoundaryConditions::constant_exterior(in, c.max ? Float(32).min() : 0.f, {{0, c.c}, {0, c.w}, {0, c.h}})(
        ch, x, y, n);
    Func out("pool");
    RDom r(0, c.pw, 0, c.ph, "r");
    Expr ix = x * c.sx + r.x - c.pl, iy = y * c.sy + r.y - c.pt;
    const bool fits = c.pl == 0 && c.pt == 0 && (c.ow - 1) * c.sx + c.pw <= c.w && (c.oh - 1) * c.sy + c.ph <= c.h;
    if (c.pw * c.ph <= 16) {
        // A small window written out as one expression: an inline reduction (maximum, sum) is a
        // function of its own computed inside the vector loop, one lane at a time. Where every
        // window fits in the image, the input is read directly, with no boundary condition.
        Func read = fits ? Func(in) : src;
        Expr m, total, count = 0;
        for (int ky = 0; ky < c.ph; ++ky)
            for (int kx = 0; kx < c.pw; ++kx) {
                Expr jx = x * c.sx + kx - c.pl, jy = y * c.sy + ky - c.pt;
                Expr v = read(ch, jx, jy, n);
                m = m.defined() ? max(m, v) : v;
                total = total.defined() ? total + v : v;
                count = count + select(inside(c, jx, jy), 1, 0);
            }
        out(ch, x, y, n) = c.max ? m : total / cast<float>(count);
    } else if (c.max) {
        out(ch, x, y, n) = maximum(src(ch, ix, iy, n));
    } else {
        // TF/Keras average only over the window's cells inside the image.
        Expr count = sum(select(inside(c, ix, iy), 1.f, 0.f));
        out(ch, x, y, n) = sum(src(ch, ix, iy, n)) / count;
    }
    int vec = sched::vector_width(c.c);
    out.output_buffer().dim(0).set_bounds(0, c.c);
    out.vectorize(ch, vec).parallel(n);
    k.pipeline = Pipeline(out);
    k.inputs = {in};
    return k;
}

// The gradient `g` for input cell (ch, x, y, n), with the producer's activation derivative
// applied where the op took one (PoolCfg::input_act): `in` is that activation's output.
Expr to_input(const std::string& act, Expr g, Expr in) { return act.empty() ? g : activation_gradient(act, in, g); }

KernelDef pool_backward(const PoolCfg& c) {
    KernelDef k;
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
        Expr v = in(ch, x, y, n);
        dx(ch, x, y, n) = to_input(c.input_act, select(valid && v == m && !earlier, dy(ch, cx, cy, n), 0.f), v);
        // A window's cells unrolled together: x / sx and the cell's place in its window are then
        // constants the simplifier folds (the `earlier` chain with them), instead of being worked
        // out for every vector (twice the time, cats-vs-dogs' first pooling: 15 -> 8 ms).
        dense_layout(dx.output_buffer(), {c.c, c.w, c.h, 0});
        Var xo("xo"), xi("xi"), yo("yo"), yi("yi");
        const TailStrategy tail = c.w % c.sx == 0 && c.h % c.sy == 0 ? TailStrategy::Auto : TailStrategy::GuardWithIf;
        dx.split(x, xo, xi, c.sx, tail).split(y, yo, yi, c.sy, tail).reorder(ch, xi, yi, xo, yo, n);
        dx.vectorize(ch, sched::vector_width(c.c)).unroll(xi).unroll(yi).parallel(n);
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
    dx(ch, x, y, n) = to_input(c.input_act, g, in(ch, x, y, n));
    dx.vectorize(ch, sched::vector_width(c.c)).parallel(n);
    k.pipeline = Pipeline(dx);
    k.inputs = {in, yout, dy};
    return k;
}


KernelDef global_forward(const GlobalCfg& c) {
    KernelDef k;
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

KernelDef global_backward(const GlobalCfg& c) {
    KernelDef k;
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
        dx(ch, p, n) = to_input(c.input_act, select(arg(ch, n) == p, dy(ch, n), 0.f), in(ch, p, n));
    } else {
        dx(ch, p, n) = to_input(c.input_act, dy(ch, n) / static_cast<float>(c.positions), in(ch, p, n));
    }
    dx.vectorize(ch, sched::vector_width(c.c)).parallel(n);
    k.pipeline = Pipeline(dx);
    k.inputs = {in, dy};
    return k;
}

}  // namespace

KernelDef build_pool_fwd(const KernelSpec& s) { return pool_forward(PoolCfg::from(s)); }
KernelDef build_pool_bwd(const KernelSpec& s) { return pool_backward(PoolCfg::from(s)); }
KernelDef build_global_fwd(const KernelSpec& s) { return global_forward(GlobalCfg::from(s)); }
KernelDef build_global_bwd(const KernelSpec& s) { return global_backward(GlobalCfg::from(s)); }

}  // namespace cnnc::engine
