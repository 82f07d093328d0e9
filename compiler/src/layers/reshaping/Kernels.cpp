// The reshaping kernels in Halide. The border kernel: ZeroPadding2D's forward and Cropping2D's
// backward (positive offsets), Cropping2D's forward and ZeroPadding2D's backward (negative ones).
// The upsample kernels: UpSampling2D's forward and backward.
#include "kernels/KernelDef.h"
#include "kernels/Schedule.h"
#include "layers/reshaping/Config.h"

namespace cnnc::engine {
using namespace Halide;

// border(c, w, h, ow, oh, left, top): out(c, x, y) = in(c, x - left, y - top), 0 outside the input.
namespace {

// A copy-like output (c, x, y, n): whole rows of channels per task, vectorised across channels or,
// when an image has few of them (RGB), across x.
void schedule_rows(Func out, int channels) {
    Var ch = out.args()[0], x = out.args()[1], y = out.args()[2], n = out.args()[3], yn("yn");
    out.output_buffer().dim(0).set_bounds(0, channels);
    out.fuse(y, n, yn).parallel(yn);
    int vec = sched::vector_width(channels);
    if (vec > 1) out.vectorize(ch, vec);
    else out.bound(ch, 0, channels).unroll(ch).reorder(ch, x).vectorize(x, 8, TailStrategy::GuardWithIf);
}

}  // namespace

KernelDef build_border(const KernelSpec& s) {
    const BorderCfg c = BorderCfg::from(s);
    KernelDef k;
    ImageParam in(Float(32), 4, "in");
    dense_layout(in, {c.c, c.w, c.h, 0});
    Var ch("c"), x("x"), y("y"), n("n");
    Func src = BoundaryConditions::constant_exterior(in, 0.f, {{0, c.c}, {0, c.w}, {0, c.h}});
    Func out("border");
    out(ch, x, y, n) = src(ch, x - c.left, y - c.top, n);
    schedule_rows(out, c.c);
    k.pipeline = Pipeline(out);
    k.inputs = {in};
    return k;
}

namespace {

// Along one axis of n pixels scaled by s: the two pixels output position `o` reads and the second
// one's weight (Keras' bilinear resize: half-pixel centres, the source clamped to the image).
struct Taps {
    Expr lo, hi, w;
};
Taps taps(Expr o, int n, int s) {
    Expr src = max((cast<float>(o) + 0.5f) / s - 0.5f, 0.f);
    Expr lo = min(cast<int>(floor(src)), n - 1);
    return {lo, min(lo + 1, n - 1), src - cast<float>(lo)};
}

// How much of output position `o` pixel `i` makes: the adjoint of taps().
Expr weight(Expr o, Expr i, int n, int s) {
    Taps t = taps(o, n, s);
    return select(t.lo == i, 1.f - t.w, 0.f) + select(t.hi == i, t.w, 0.f);
}

}  // namespace

// upsample_fwd(c, w, h, sw, sh, bilinear): nearest, out(c, x, y) = in(c, x / sw, y / sh);
// bilinear, the four pixels around the source position, weighted.
KernelDef build_upsample_fwd(const KernelSpec& s) {
    const UpsampleCfg c = UpsampleCfg::from(s);
    KernelDef k;
    ImageParam in(Float(32), 4, "in");
    dense_layout(in, {c.c, c.w, c.h, 0});
    Var ch("c"), x("x"), y("y"), n("n");
    Func out("upsample");
    if (c.bilinear) {
        Taps tx = taps(x, c.w, c.sw), ty = taps(y, c.h, c.sh);
        Expr top = lerp(in(ch, tx.lo, ty.lo, n), in(ch, tx.hi, ty.lo, n), tx.w);
        Expr bottom = lerp(in(ch, tx.lo, ty.hi, n), in(ch, tx.hi, ty.hi, n), tx.w);
        out(ch, x, y, n) = lerp(top, bottom, ty.w);
    } else {
        out(ch, x, y, n) = in(ch, x / c.sw, y / c.sh, n);
    }
    schedule_rows(out, c.c);
    k.pipeline = Pipeline(out);
    k.inputs = {in};
    return k;
}

// upsample_bwd(c, w, h, sw, sh, bilinear): nearest, dx(c, x, y) = the sum of dy over the sw x sh
// block that pixel filled; bilinear, dy weighted as the forward weighted the pixel, over the
// outputs that can read it (3 sw x 3 sh around it; dy is 0 outside the image).
KernelDef build_upsample_bwd(const KernelSpec& s) {
    const UpsampleCfg c = UpsampleCfg::from(s);
    KernelDef k;
    ImageParam dy(Float(32), 4, "dy");
    dense_layout(dy, {c.c, c.w * c.sw, c.h * c.sh, 0});
    Var ch("c"), x("x"), y("y"), n("n");
    Func dx("upsample_bwd");
    if (c.bilinear) {
        Func d = BoundaryConditions::constant_exterior(dy, 0.f, {{0, c.c}, {0, c.w * c.sw}, {0, c.h * c.sh}});
        RDom r(0, 3 * c.sw, 0, 3 * c.sh);
        Expr ox = (x - 1) * c.sw + r.x, oy = (y - 1) * c.sh + r.y;
        dx(ch, x, y, n) = sum(weight(ox, x, c.w, c.sw) * weight(oy, y, c.h, c.sh) * d(ch, ox, oy, n));
    } else {
        RDom r(0, c.sw, 0, c.sh);
        dx(ch, x, y, n) = sum(dy(ch, x * c.sw + r.x, y * c.sh + r.y, n));
    }
    schedule_rows(dx, c.c);
    k.pipeline = Pipeline(dx);
    k.inputs = {dy};
    return k;
}

}  // namespace cnnc::engine
