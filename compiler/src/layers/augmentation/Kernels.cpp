// The augmentation layers' kernel: each image resampled through its own affine map from output to
// input pixels (given per image, 6 floats), with Keras' fill modes and bilinear or nearest sampling.
#include "kernels/KernelDef.h"
#include "kernels/Schedule.h"

namespace cnnc::engine {
using namespace Halide;

namespace {

// Maps an integer coordinate outside [0, n) back inside, as Keras' fill modes do; `constant`
// leaves it (the caller substitutes the fill value).
// (The outer clamp changes nothing; it tells Halide's bounds inference the index stays inside.)
Expr fold(Expr v, int n, const std::string& mode) {
    Expr r = v;
    if (mode == "wrap") r = ((v % n) + n) % n;
    if (mode == "reflect") {  // d c b a | a b c d | d c b a
        Expr m = ((v % (2 * n)) + 2 * n) % (2 * n);
        r = select(m >= n, 2 * n - 1 - m, m);
    }
    return clamp(r, 0, n - 1);
}

KernelDef warp_kernel(int c, int w, int h, const std::string& fill, bool nearest, float fill_value) {
    KernelDef k;
    ImageParam in(Float(32), 4, "in"), m(Float(32), 2, "map");
    dense_layout(in, {c, w, h, 0});
    dense_layout(m, {6, 0});
    Var ch("c"), x("x"), y("y"), n("n");
    Expr fx = cast<float>(x), fy = cast<float>(y);
    Expr xin = m(0, n) * fx + m(1, n) * fy + m(2, n);
    Expr yin = m(3, n) * fx + m(4, n) * fy + m(5, n);
    auto sample = [&](Expr ix, Expr iy) {
        Expr v = in(ch, fold(ix, w, fill), fold(iy, h, fill), n);
        if (fill == "constant") return select(ix >= 0 && ix < w && iy >= 0 && iy < h, v, fill_value);
        return v;
    };
    Func out("warp");
    if (nearest) {
        out(ch, x, y, n) = sample(cast<int>(round(xin)), cast<int>(round(yin)));
    } else {
        Expr x0 = cast<int>(floor(xin)), y0 = cast<int>(floor(yin));
        Expr ax = xin - cast<float>(x0), ay = yin - cast<float>(y0);
        out(ch, x, y, n) = (sample(x0, y0) * (1 - ax) + sample(x0 + 1, y0) * ax) * (1 - ay) +
                           (sample(x0, y0 + 1) * (1 - ax) + sample(x0 + 1, y0 + 1) * ax) * ay;
    }
    out.output_buffer().dim(0).set_bounds(0, c);
    out.bound(ch, 0, c).unroll(ch).vectorize(x, 16, TailStrategy::GuardWithIf).parallel(n);
    k.pipeline = Pipeline(out);
    k.inputs = {in, m};
    return k;
}

}  // namespace

// warp(c, w, h, fill, nearest, fill_value)
KernelDef build_warp(const KernelSpec& s) {
    return warp_kernel(s.i("c"), s.i("w"), s.i("h"), s.s("fill"), s.b("nearest"), s.f("fill_value"));
}

}  // namespace cnnc::engine
