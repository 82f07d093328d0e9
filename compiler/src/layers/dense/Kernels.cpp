// Dense in Halide: out(u, r) = act(b(u) + sum_k W(u, k) x(k, r)) over rows r (the batch, or every
// position for a rank > 2 input), with a register tile of units × rows, and its backward kernels.
#include "ir/Activation.h"
#include "kernels/Activation.h"
#include "kernels/KernelDef.h"
#include "kernels/Schedule.h"
#include "kernels/Tuning.h"
#include "layers/dense/Config.h"

namespace cnnc::engine {
using namespace Halide;

namespace {

KernelDef dense_forward(const DenseCfg& c, const Knobs& kn) {
    KernelDef k;
    ImageParam x(Float(32), 2, "x"), w(Float(32), 2, "w"), b(Float(32), 1, "b");
    dense_layout(x, {c.in, 0});
    dense_layout(w, {c.units, c.in});
    Var u("u"), r("r");
    RDom kk(0, c.in, "k");
    Func z("z");
    z(u, r) = c.bias ? b(u) : 0.f;
    z(u, r) += w(u, kk) * x(kk, r);
    Func out = activation_forward(c.act, z, 2, c.units);
    out.output_buffer().dim(0).set_bounds(0, c.units);
    Tile t = register_tile(kn, c.units, 8);
    Var uo("uo"), ui("ui"), ro("ro"), ri("ri");
    if (activation_traits(c.act).across_channels) {
        z.compute_root().vectorize(u, t.vec).parallel(r).update().vectorize(u, t.vec).parallel(r);
    } else {
        // Blocks of t.other rows when the batch has that many; a last small batch takes the plain path.
        Var ou = out.args()[0], orow = out.args()[1];  // the activation's own variables
        out.split(ou, uo, ui, t.vec * t.vecs).reorder(ui, uo, orow).vectorize(ui, t.vec).unroll(ui);
        out.specialize(x.dim(1).extent() >= t.other)
            .split(orow, ro, ri, t.other)
            .reorder(ui, ri, uo, ro)
            .parallel(ro);
        z.compute_at(out, uo).vectorize(u, t.vec).unroll(u).update().reorder(u, r, kk).vectorize(u, t.vec).unroll(u);
    }
    k.pipeline = Pipeline(out);
    k.inputs = {x, w, b};
    return k;
}

Func dense_dz(const DenseCfg& c, ImageParam& y, ImageParam& dy, Param<int>& logits) {
    Var u("u"), r("r");
    Func fy("fy"), fdy("fdy");
    fy(u, r) = y(u, r);
    fdy(u, r) = dy(u, r);
    Func dz = activation_backward(c.act, fy, fdy, 2, c.units, logits != 0);
    dz.compute_root().vectorize(dz.args()[0], sched::vector_width(c.units));
    return dz;
}

// Whether dW's tile runs along the inputs rather than the units: fewer units than a vector of
// the inputs, all of them in one tile, and inputs that vectors divide.
bool narrow_units(const DenseCfg& c) {
    const int vk = sched::vector_width(c.in);
    return vk >= 4 && sched::vector_width(c.units) < vk && c.units <= 12;
}

KernelDef dense_backward_weights(const DenseCfg& c, const Knobs& kn) {
    KernelDef k;
    ImageParam x(Float(32), 2, "x"), y(Float(32), 2, "y"), dy(Float(32), 2, "dy");
    Param<int> logits("logits");
    dense_layout(x, {c.in, 0});
    dense_layout(y, {c.units, 0});
    dense_layout(dy, {c.units, 0});
    Func dz = dense_dz(c, y, dy, logits);
    Var u("u"), kk("k");
    RDom r(0, x.dim(1).extent(), "r");
    Func acc("dw_acc"), dw("dw"), bacc("db_acc"), db("db");
    acc(u, kk) = 0.f;
    acc(u, kk) += dz(u, r) * x(kk, r);
    dw(u, kk) = acc(u, kk);
    bacc(u) = 0.f;
    bacc(u) += dz(u, r);
    db(u) = bacc(u);
    dw.output_buffer().dim(0).set_bounds(0, c.units);
    dw.output_buffer().dim(1).set_bounds(0, c.in);
    db.output_buffer().dim(0).set_bounds(0, c.units);
    Var ko("ko"), ki("ki");
    if (narrow_units(c)) {
        // Fewer units than a vector (a binary classifier's Dense(1), MNIST's Dense(10)): a tile of
        // units would be scalar and would gather x(k, r) across rows. Vectors run along the
        // inputs instead, where x is contiguous, with every unit in the tile and dz(u, r) broadcast.
        const int vk = sched::vector_width(c.in);
        int kv = 1;
        for (int v = 4; v > 1; --v)
            if ((c.in / vk) % v == 0 && c.units * v <= 12) {  // at most 12 accumulators: AVX2 holds a 16-wide one in two registers
                kv = v;
                break;
            }
        dw.split(kk, ko, ki, vk * kv).reorder(u, ki, ko).vectorize(ki, vk).unroll(ki).unroll(u).parallel(ko);
        acc.compute_at(dw, ko).vectorize(kk, vk).unroll(kk).unroll(u).update().reorder(kk, u, r).vectorize(kk, vk).unroll(kk).unroll(u);
        bacc.compute_root();
    } else {
        // Tiles of units × inputs; the inputs' extent must divide (the update's split is rounded up).
        Tile t = register_tile(c.units, 1);
        int tk = divisor_tile(c.in, std::max(1, 20 / t.vecs));
        if (Tile k = register_tile(kn, c.units, c.in, /*exact=*/true); kn.vecs > 0 && !(k == register_tile(c.units, c.in, true)))
            t = k, tk = k.other;
        Var uo("uo"), ui("ui");
        dw.split(u, uo, ui, t.vec * t.vecs)
            .split(kk, ko, ki, tk)
            .reorder(ui, ki, uo, ko)
            .vectorize(ui, t.vec)
            .unroll(ui)
            .unroll(ki)
            .parallel(ko);
        acc.compute_at(dw, uo).vectorize(u, t.vec).unroll(u).unroll(kk).update().reorder(u, kk, r).vectorize(u, t.vec).unroll(u).unroll(kk);
        bacc.compute_root().vectorize(u, t.vec).update().vectorize(u, t.vec);
    }
    k.pipeline = Pipeline({dw, db});
    k.inputs = {x, y, dy};
    k.ints = {logits};
    return k;
}

KernelDef dense_backward_input(const DenseCfg& c, const Knobs& kn) {
    KernelDef k;
    ImageParam w(Float(32), 2, "w"), y(Float(32), 2, "y"), dy(Float(32), 2, "dy");
    Param<int> logits("logits");
    dense_layout(w, {c.units, c.in});
    dense_layout(y, {c.units, 0});
    dense_layout(dy, {c.units, 0});
    Func dz = dense_dz(c, y, dy, logits);
    Var kk("k"), r("r"), u("u");
    Func wt("wt");
    wt(kk, u) = w(u, kk);
    RDom ru(0, c.units, "u");
    Func acc("dx_acc"), dx("dx");
    acc(kk, r) = 0.f;
    acc(kk, r) += wt(kk, ru) * dz(ru, r);
    dx(kk, r) = acc(kk, r);
    dx.output_buffer().dim(0).set_bounds(0, c.in);
    Tile t = register_tile(kn, c.in, 8);
    Var ko("ko"), ki("ki"), ro("ro"), ri("ri");
    dx.split(kk, ko, ki, t.vec * t.vecs).reorder(ki, ko, r).vectorize(ki, t.vec).unroll(ki);
    dx.specialize(dy.dim(1).extent() >= t.other).split(r, ro, ri, t.other).reorder(ki, ri, ko, ro).parallel(ro);
    acc.compute_at(dx, ko).vectorize(kk, t.vec).unroll(kk).update().reorder(kk, r, ru).vectorize(kk, t.vec).unroll(kk);
    wt.compute_root();
    k.pipeline = Pipeline(dx);
    k.inputs = {w, y, dy};
    k.ints = {logits};
    return k;
}

}  // namespace

KernelDef build_dense_fwd(const KernelSpec& s) { return dense_forward(DenseCfg::from(s), Knobs::from(s)); }
KernelDef build_dense_bwd_w(const KernelSpec& s) { return dense_backward_weights(DenseCfg::from(s), Knobs::from(s)); }
KernelDef build_dense_bwd_x(const KernelSpec& s) { return dense_backward_input(DenseCfg::from(s), Knobs::from(s)); }

// ---- what the tuner measures (kernels/Tuning.h); rows = the batch (a rank > 2 input has more) ----
TuneProblem tune_dense_fwd(const KernelSpec& s, const TuneRequest& q) {
    const int n = q.batch;
    DenseCfg c = DenseCfg::from(s);
    return {{{c.in, n}, {c.units, c.in}, {c.units}}, {{c.units, n}}, {}, tile_knobs(c.units, 8, false, q), 2.0 * c.in * c.units * n};
}
TuneProblem tune_dense_bwd_w(const KernelSpec& s, const TuneRequest& q) {
    const int n = q.batch;
    DenseCfg c = DenseCfg::from(s);
    // The narrow schedule has no tile knobs: its one candidate is not searched.
    auto knobs = narrow_units(c) ? std::vector<Knobs>{Knobs{}} : tile_knobs(c.units, c.in, true, q);
    return {{{c.in, n}, {c.units, n}, {c.units, n}}, {{c.units, c.in}, {c.units}}, {0}, knobs, 2.0 * c.in * c.units * n};
}
TuneProblem tune_dense_bwd_x(const KernelSpec& s, const TuneRequest& q) {
    const int n = q.batch;
    DenseCfg c = DenseCfg::from(s);
    return {{{c.units, c.in}, {c.units, n}, {c.units, n}}, {{c.in, n}}, {0}, tile_knobs(c.in, 8, false, q), 2.0 * c.in * c.units * n};
}

}  // namespace cnnc::engine
