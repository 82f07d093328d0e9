// The border kernel in Halide: ZeroPadding2D's forward and Cropping2D's backward (positive
// offsets), Cropping2D's forward and ZeroPadding2D's backward (negative ones).
#include "kernels/KernelDef.h"
#include "kernels/Schedule.h"
#include "layers/reshaping/Config.h"

namespace cnnc::engine {
using namespace Halide;

// border(c, w, h, ow, oh, left, top): out(c, x, y) = in(c, x - left, y - top), 0 outside the input.
KernelDef build_border(const KernelSpec& s) {
    const BorderCfg c = BorderCfg::from(s);
    KernelDef k;
    ImageParam in(Float(32), 4, "in");
    dense_layout(in, {c.c, c.w, c.h, 0});
    Var ch("c"), x("x"), y("y"), n("n");
    Func src = BoundaryConditions::constant_exterior(in, 0.f, {{0, c.c}, {0, c.w}, {0, c.h}});
    Func out("border");
    out(ch, x, y, n) = src(ch, x - c.left, y - c.top, n);
    out.output_buffer().dim(0).set_bounds(0, c.c);
    // A copy: whole rows of channels per task, vectorised across channels or, when an image has
    // few of them (RGB), across x.
    Var yn("yn");
    out.fuse(y, n, yn).parallel(yn);
    int vec = sched::vector_width(c.c);
    if (vec > 1) out.vectorize(ch, vec);
    else out.bound(ch, 0, c.c).unroll(ch).reorder(ch, x).vectorize(x, 8, TailStrategy::GuardWithIf);
    k.pipeline = Pipeline(out);
    k.inputs = {in};
    return k;
}

}  // namespace cnnc::engine
