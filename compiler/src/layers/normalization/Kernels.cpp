// BatchNormalization and LayerNormalization in Halide, over a tensor seen as (inner, c, rows)
// innermost-first (Config.h). Sums over rows run in chunks in parallel, then add the chunks,
// as the convolution's weight gradient does. Formulas as Keras 3 computes them
// (ops.batch_normalization, ops.moments: the biased variance, x·inv + (beta − mean·inv) with
// inv = gamma / sqrt(variance + epsilon)).
#include <functional>

#include "kernels/KernelDef.h"
#include "kernels/Schedule.h"
#include "layers/normalization/Config.h"

namespace cnnc::engine {
using namespace Halide;

namespace {

constexpr int kChunks = 16;  // the parallel chunks of a sum over rows

ImageParam tensor(const NormCfg& c, const char* name) {
    ImageParam p(Float(32), 3, name);
    dense_layout(p, {c.inner, c.c, 0});
    return p;
}

ImageParam per_channel(const NormCfg& c, const char* name) {
    ImageParam p(Float(32), 1, name);
    dense_layout(p, {c.c});
    return p;
}

// Value k of a Func of `n` values (a Tuple when n > 1).
Expr element(const FuncRef& f, size_t k, size_t n) { return n > 1 ? Expr(f[static_cast<int>(k)]) : Expr(f); }

// Defines f as the one value of `v`, or as their Tuple.
void define(FuncRef f, const std::vector<Expr>& v) {
    if (v.size() == 1) f = v[0];
    else f = Tuple(v);
}

// Per channel, the sums over every row and inner position of the values `f(i, ch, row)` gives:
// a Func of ch holding them (a Tuple when there are several).
Func channel_sums(const NormCfg& c, Expr rows, const std::function<std::vector<Expr>(Expr, Expr, Expr)>& f,
                  const std::string& name) {
    Var ch("c"), u("u");
    Expr chunk = (rows + kChunks - 1) / kChunks;
    RDom rc(0, c.inner, 0, chunk, name + "_r");
    Expr row = u * chunk + rc.y;
    rc.where(row < rows);
    std::vector<Expr> v = f(rc.x, ch, min(row, rows - 1));  // min: for bounds inference; `where` skips the rest
    const size_t n = v.size();
    std::vector<Expr> zero(n, 0.f), add(n), total(n);
    Func part(name + "_part"), acc(name);
    define(part(ch, u), zero);
    for (size_t k = 0; k < n; ++k) add[k] = element(part(ch, u), k, n) + v[k];
    define(part(ch, u), add);
    RDom ru(0, kChunks, name + "_u");
    define(acc(ch), zero);
    for (size_t k = 0; k < n; ++k) total[k] = element(acc(ch), k, n) + element(part(ch, ru), k, n);
    define(acc(ch), total);
    const int vw = c.inner == 1 ? sched::vector_width(c.c) : 1;
    part.compute_root().vectorize(ch, vw).parallel(u);
    part.update().reorder(ch, rc.x, rc.y, u).vectorize(ch, vw).parallel(u);
    acc.compute_root().vectorize(ch, vw).update().vectorize(ch, vw);
    return acc;
}

// An elementwise stage over the whole tensor: tasks of about 16K values, vectorised along the
// channels (or the inner positions when there are several).
void schedule_map(const NormCfg& c, Func out) {
    Var i = out.args()[0], ch = out.args()[1], r = out.args()[2], ro("ro"), ri("ri");
    out.split(r, ro, ri, std::max(1, 16384 / (c.c * c.inner)), TailStrategy::GuardWithIf).parallel(ro);
    const int vw = sched::vector_width(c.inner == 1 ? c.c : c.inner);
    if (vw > 1) out.vectorize(c.inner == 1 ? ch : i, vw);
}

Expr count(const NormCfg& c, const ImageParam& x) { return cast<float>(x.dim(2).extent()) * static_cast<float>(c.inner); }

KernelDef bn_stats(const NormCfg& c) {
    KernelDef k;
    ImageParam x = tensor(c, "x");
    Expr rows = x.dim(2).extent();
    Var ch("c");
    Func sum_x = channel_sums(c, rows, [&](Expr i, Expr h, Expr r) { return std::vector<Expr>{x(i, h, r)}; }, "sum_x");
    Func mean("mean"), var("variance");
    mean(ch) = sum_x(ch) / count(c, x);
    // Two passes: the sum of squared deviations from the mean (not E[x²] − E[x]², which cancels).
    Func sum_sq = channel_sums(c, rows, [&](Expr i, Expr h, Expr r) {
        Expr d = x(i, h, r) - mean(h);
        return std::vector<Expr>{d * d};
    }, "sum_sq");
    var(ch) = sum_sq(ch) / count(c, x);
    mean.compute_root();
    k.pipeline = Pipeline({mean, var});
    k.inputs = {x};
    return k;
}

KernelDef bn_apply(const NormCfg& c) {
    KernelDef k;
    ImageParam x = tensor(c, "x"), gamma = per_channel(c, "gamma"), beta = per_channel(c, "beta"),
               mean = per_channel(c, "mean"), var = per_channel(c, "variance");
    Var i("i"), ch("c"), r("r");
    Func a("a"), b("b"), y("y");
    a(ch) = gamma(ch) / sqrt(var(ch) + c.eps);
    b(ch) = beta(ch) - mean(ch) * a(ch);
    y(i, ch, r) = x(i, ch, r) * a(ch) + b(ch);
    a.compute_root();
    b.compute_root();
    schedule_map(c, y);
    k.pipeline = Pipeline(y);
    k.inputs = {x, gamma, beta, mean, var};
    return k;
}

KernelDef bn_sums(const NormCfg& c) {
    KernelDef k;
    ImageParam x = tensor(c, "x"), dy = tensor(c, "dy"), mean = per_channel(c, "mean"), var = per_channel(c, "variance");
    Var ch("c");
    Func inv("inv");
    inv(ch) = 1.f / sqrt(var(ch) + c.eps);
    inv.compute_root();
    Func sums = channel_sums(c, x.dim(2).extent(), [&](Expr i, Expr h, Expr r) {
        return std::vector<Expr>{dy(i, h, r), dy(i, h, r) * (x(i, h, r) - mean(h)) * inv(h)};
    }, "sums");
    Func sdy("sum_dy"), sdyx("sum_dy_xhat");
    sdy(ch) = sums(ch)[0];
    sdyx(ch) = sums(ch)[1];
    k.pipeline = Pipeline({sdy, sdyx});
    k.inputs = {x, dy, mean, var};
    return k;
}

// The gradient through the batch's statistics: dx = gamma·inv·(dy − Σdy/M − x̂·Σ(dy·x̂)/M).
KernelDef bn_bwd_x(const NormCfg& c) {
    KernelDef k;
    ImageParam x = tensor(c, "x"), dy = tensor(c, "dy"), gamma = per_channel(c, "gamma"), mean = per_channel(c, "mean"),
               var = per_channel(c, "variance"), sdy = per_channel(c, "sum_dy"), sdyx = per_channel(c, "sum_dy_xhat");
    Var i("i"), ch("c"), r("r");
    Func inv("inv"), g("g"), k1("k1"), k2("k2"), dx("dx");
    inv(ch) = 1.f / sqrt(var(ch) + c.eps);
    g(ch) = gamma(ch) * inv(ch);
    k1(ch) = sdy(ch) / count(c, x);
    k2(ch) = sdyx(ch) / count(c, x) * inv(ch);
    dx(i, ch, r) = g(ch) * (dy(i, ch, r) - k1(ch) - (x(i, ch, r) - mean(ch)) * k2(ch));
    for (Func f : {inv, g, k1, k2}) f.compute_root();
    schedule_map(c, dx);
    k.pipeline = Pipeline(dx);
    k.inputs = {x, dy, gamma, mean, var, sdy, sdyx};
    return k;
}

// LayerNormalization's statistics per (inner position, row), over the c values: mean and
// 1/sqrt(variance + epsilon), computed once, in parallel over rows.
struct RowStats {
    Func mean{"row_mean"}, inv{"row_inv"};
};
RowStats row_stats(const NormCfg& c, const ImageParam& x) {
    RowStats s;
    Var i("i"), r("r");
    RDom rc(0, c.c, "rc");
    s.mean(i, r) = sum(x(i, rc, r)) / static_cast<float>(c.c);
    Expr d = x(i, rc, r) - s.mean(i, r);
    s.inv(i, r) = 1.f / sqrt(sum(d * d) / static_cast<float>(c.c) + c.eps);
    Var ro("ro"), ri("ri");
    for (Func f : {s.mean, s.inv}) f.compute_root().split(r, ro, ri, 64, TailStrategy::GuardWithIf).parallel(ro);
    return s;
}

KernelDef ln_fwd(const NormCfg& c) {
    KernelDef k;
    ImageParam x = tensor(c, "x"), gamma = per_channel(c, "gamma"), beta = per_channel(c, "beta");
    RowStats s = row_stats(c, x);
    Var i("i"), ch("c"), r("r");
    Func y("y");
    y(i, ch, r) = (x(i, ch, r) - s.mean(i, r)) * s.inv(i, r) * gamma(ch) + beta(ch);
    schedule_map(c, y);
    k.pipeline = Pipeline(y);
    k.inputs = {x, gamma, beta};
    return k;
}

// With g = dy·gamma: dx = inv·(g − mean_c(g) − x̂·mean_c(g·x̂)); dgamma = Σ dy·x̂ and dbeta = Σ dy
// over rows and inner positions.
KernelDef ln_bwd(const NormCfg& c) {
    KernelDef k;
    ImageParam x = tensor(c, "x"), dy = tensor(c, "dy"), gamma = per_channel(c, "gamma");
    RowStats s = row_stats(c, x);
    Var i("i"), ch("c"), r("r");
    auto xhat = [&](Expr i_, Expr h, Expr r_) { return (x(i_, h, r_) - s.mean(i_, r_)) * s.inv(i_, r_); };
    RDom rc(0, c.c, "rc");
    Func rs("row_sums");
    Expr g = dy(i, rc, r) * gamma(rc);
    rs(i, r) = Tuple(sum(g) / static_cast<float>(c.c), sum(g * xhat(i, rc, r)) / static_cast<float>(c.c));
    Var ro("ro"), ri("ri");
    rs.compute_root().split(r, ro, ri, 64, TailStrategy::GuardWithIf).parallel(ro);
    Func dx("dx");
    dx(i, ch, r) = s.inv(i, r) * (dy(i, ch, r) * gamma(ch) - rs(i, r)[0] - xhat(i, ch, r) * rs(i, r)[1]);
    schedule_map(c, dx);
    Func sums = channel_sums(c, x.dim(2).extent(), [&](Expr i_, Expr h, Expr r_) {
        return std::vector<Expr>{dy(i_, h, r_) * xhat(i_, h, r_), dy(i_, h, r_)};
    }, "grads");
    Func dgamma("dgamma"), dbeta("dbeta");
    dgamma(ch) = sums(ch)[0];
    dbeta(ch) = sums(ch)[1];
    k.pipeline = Pipeline({dx, dgamma, dbeta});
    k.inputs = {x, dy, gamma};
    return k;
}

}  // namespace

KernelDef build_bn_stats(const KernelSpec& s) { return bn_stats(NormCfg::from(s)); }
KernelDef build_bn_apply(const KernelSpec& s) { return bn_apply(NormCfg::from(s)); }
KernelDef build_bn_sums(const KernelSpec& s) { return bn_sums(NormCfg::from(s)); }
KernelDef build_bn_bwd_x(const KernelSpec& s) { return bn_bwd_x(NormCfg::from(s)); }
KernelDef build_ln_fwd(const KernelSpec& s) { return ln_fwd(NormCfg::from(s)); }
KernelDef build_ln_bwd(const KernelSpec& s) { return ln_bwd(NormCfg::from(s)); }

}  // namespace cnnc::engine
