// Winograd's F(2x2, 3x3) forward of a 3x3, stride-1 convolution whose output a 2x2 max pooling
// reads (ConvCfg::pool_w): each 2x2 output tile is one pooling window, so the pooling takes the
// tile as the transform makes it and the full-size output is never stored. Per tile and input
// channel, a 4x4 input patch becomes 16 values (B^T d B); the weights become 16 values per
// (output, input) channel pair (G g G^T); 16 independent channel-mixing products (one per value)
// replace the 9 taps, 16 multiply-adds per 4 outputs where direct convolution does 36 (2.25x
// fewer); A^T m A gives the 2x2 outputs. The transforms are additions and halvings only, so its
// rounding stays near direct convolution's (tests/unit/test_winograd.cpp bounds the difference),
// and its pooling index is chosen by the same rule (the first strict maximum, -1 after a relu
// where no cell is positive). It is conv_fwd's s_order=2 knob, a candidate the tuner measures
// where winograd_fits: the schedules file keeps it only where it beats the direct kernels.
#include <array>
#include <functional>

#include "ir/Activation.h"
#include "kernels/Activation.h"
#include "layers/conv/KernelsShared.h"

namespace cnnc::engine {
using namespace Halide;

bool winograd_fits(const ConvCfg& c) {
    // At least 8 input channels: with fewer, the input's transform costs about what it saves
    // (a first convolution's 3 channels).
    const bool pooling = c.pool_w == 2 && c.pool_h == 2 && c.pooled_w() > 0 && c.pooled_h() > 0;
    return c.kw == 3 && c.kh == 3 && c.sx == 1 && c.sy == 1 && c.dx == 1 && c.dy == 1 && c.groups == 1 && c.ci >= 8 &&
           (c.pool_w == 0 || pooling) && !activation_traits(c.act).across_channels;
}

namespace {

using Four = std::array<Expr, 4>;
// F(2, 3) in one dimension: the input's transform B^T d, the filter's G g, the output's A^T m.
Four input_1d(const Four& d) { return {d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]}; }
Four filter_1d(const Expr& g0, const Expr& g1, const Expr& g2) { return {g0, (g0 + g1 + g2) * 0.5f, (g0 - g1 + g2) * 0.5f, g2}; }
std::array<Expr, 2> output_1d(const Four& m) { return {m[0] + m[1] + m[2], m[1] - m[2] - m[3]}; }

// The 16 channel-mixing products of a 3x3 correlation `out(o, x, y) = sum over i, kx, ky of
// weight(o, i, kx, ky) * input(i, x + kx, y + ky)`, out's 2x2 tiles in rows of `tiles` (tx), a row
// `row` standing for whatever the caller packs into it (a pooled row and an image):
// M(o, tx, e, row) = sum over i of U(o, i, e) V(i, e, tx, row).
struct Products {
    Func U, V, acc, M;
    RDom r;
    Tile t;
    Var e, tx, row;
};
using Weight = std::function<Expr(Expr o, Expr i, int kx, int ky)>;
using Patch = std::function<Expr(Expr i, Expr tx, Expr row, int dx, int dy)>;  // input(i, 2 tx + dx, 2 y(row) + dy)
Products products(const Weight& weight, const Patch& patch, int in_channels, int out_channels, int tiles, const Knobs& kn) {
    Products p{Func("wino_u"), Func("wino_v"), Func("wino_acc"), Func("wino_m"), RDom(0, in_channels, "r"),
               register_tile(kn, out_channels, tiles), Var("e"), Var("tx"), Var("row")};
    const int T = p.t.vec * p.t.vecs;
    Var cv("cv"), ci("ci"), ct("ct"), co("co");
    // The weights' 16 values, e = u + 4 v (u along x, v along y), in the tile's order: the T
    // output channels one tile multiplies, then the input channels its reduction steps through.
    {
        Expr o = ct * T + cv;
        std::array<Four, 3> along_x;  // [ky][u]
        for (int ky = 0; ky < 3; ++ky) along_x[ky] = filter_1d(weight(o, ci, 0, ky), weight(o, ci, 1, ky), weight(o, ci, 2, ky));
        std::vector<Expr> vals(16);
        for (int u = 0; u < 4; ++u) {
            Four f = filter_1d(along_x[0][u], along_x[1][u], along_x[2][u]);
            for (int v = 0; v < 4; ++v) vals[u + 4 * v] = f[v];
        }
        p.U(cv, ci, ct, p.e) = mux(p.e, vals);
    }
    // The input's 16 values for tile tx of row `row`.
    {
        std::array<Four, 4> along_x;  // [j][u]
        for (int j = 0; j < 4; ++j)
            along_x[j] = input_1d({patch(ci, p.tx, p.row, 0, j), patch(ci, p.tx, p.row, 1, j), patch(ci, p.tx, p.row, 2, j), patch(ci, p.tx, p.row, 3, j)});
        std::vector<Expr> vals(16);
        for (int u = 0; u < 4; ++u) {
            Four f = input_1d({along_x[0][u], along_x[1][u], along_x[2][u], along_x[3][u]});
            for (int v = 0; v < 4; ++v) vals[u + 4 * v] = f[v];
        }
        p.V(ci, p.e, p.tx, p.row) = mux(p.e, vals);
    }
    p.acc(co, p.tx, p.e, p.row) = 0.f;
    p.acc(co, p.tx, p.e, p.row) += p.U(co % T, p.r, co / T, p.e) * p.V(p.r, p.e, p.tx, p.row);
    p.M(co, p.tx, p.e, p.row) = p.acc(co, p.tx, p.e, p.row);
    return p;
}

// Output cell (a, b) of tile `tx` of row `row`, channel `o`: A^T m A.
Expr tile_output(const Products& p, Expr o, Expr tx, Expr row, int a, int b) {
    std::array<Expr, 4> along_y;  // [u]
    for (int u = 0; u < 4; ++u) along_y[u] = output_1d({p.M(o, tx, u, row), p.M(o, tx, u + 4, row), p.M(o, tx, u + 8, row), p.M(o, tx, u + 12, row)})[b];
    return output_1d({along_y[0], along_y[1], along_y[2], along_y[3]})[a];
}

// The schedule both kernels share, inside the caller's block `at` of one row of tiles: the
// input's values, then the products in register tiles (16 x channels x tiles floats, in L2),
// the weights' values once per call.
void schedule_products(Products& p, Func consumer, const Var& at, int in_channels) {
    register_tiled(p.M, p.acc, {p.r}, p.t);
    p.M.compute_at(consumer, at);
    p.V.compute_at(consumer, at).reorder(p.V.args()[0], p.e, p.tx, p.row).vectorize(p.V.args()[0], sched::vector_width(in_channels)).unroll(p.e);
    const Var cv = p.U.args()[0], ci = p.U.args()[1], ct = p.U.args()[2];
    p.U.compute_root().reorder(cv, p.e, ci, ct).vectorize(cv, p.t.vec).unroll(p.e).parallel(ct);
}

// The schedule of an output `out` (channels, x, y, n) made of whole tiles: its columns and rows
// pinned at 0 and split in pairs, so a tile's cells are constants (x % 2, y % 2 fold); an odd
// last row or column guarded; rows of tiles of every image in parallel, each making its products.
void schedule_tiled_output(Products& p, Func out, int channels, int width, int height, int in_channels) {
    const Var oc = out.args()[0], ox = out.args()[1], oy = out.args()[2], on = out.args()[3];  // (an activation's names)
    out.output_buffer().dim(0).set_bounds(0, channels).dim(1).set_bounds(0, width).dim(2).set_bounds(0, height);
    Var tx("tx"), xi("xi"), ty("ty"), yi("yi"), yn("yn");
    out.vectorize(oc, sched::vector_width(channels))
        .split(ox, tx, xi, 2, TailStrategy::GuardWithIf)
        .split(oy, ty, yi, 2, TailStrategy::GuardWithIf)
        .reorder(oc, xi, yi, tx, ty, on)
        .unroll(xi)
        .unroll(yi)
        .fuse(ty, on, yn)
        .parallel(yn);
    schedule_products(p, out, yn, in_channels);
}

}  // namespace

namespace {

// Without a pooling: tiles over the output's rows and columns, an odd last one cut as the input
// gradient's (below). Its input reads past the last column (row) the direct kernel reads only for
// the cut cells, which no other cell's value depends on (A^T's first row has no fourth term), so
// those reads are clamped to the last one.
KernelDef forward_unpooled(const ConvCfg& c, const Knobs& kn, ImageParam& in, ImageParam& w, ImageParam& b) {
    KernelDef k;
    bool padded = false;
    Func src = conv_source(c, in, padded);
    const int TW = (c.ow + 1) / 2, TH = (c.oh + 1) / 2;
    Products p = products([&](Expr o, Expr i, int kx, int ky) { return w(o, i, kx, ky); },
                          [&](Expr i, Expr tx, Expr row, int dx, int dy) {
                              return src(i, min(2 * tx + dx, c.ow + 1), min(2 * (row % TH) + dy, c.oh + 1), row / TH);
                          },
                          c.ci, c.co, TW, kn);
    Var co("co"), x("x"), yy("y"), n("n");
    std::vector<Expr> cells(4);
    for (int cell = 0; cell < 4; ++cell) {
        Expr v = tile_output(p, co, x / 2, yy / 2 + n * TH, cell % 2, cell / 2);
        cells[cell] = c.bias ? v + b(co) : v;
    }
    Func z("wino_z");
    z(co, x, yy, n) = mux(x % 2 + 2 * (yy % 2), cells);
    Func out = activation_forward(c.act, z, 4, c.co);
    schedule_tiled_output(p, out, c.co, c.ow, c.oh, c.ci);
    if (padded) src.compute_root().parallel(src.args()[3]);
    k.pipeline = Pipeline(out);
    k.inputs = {in, w, b};
    return k;
}

}  // namespace

KernelDef conv_forward_winograd(const ConvCfg& c, const Knobs& kn) {
    KernelDef k;
    ImageParam in(Float(32), 4, "in"), w(Float(32), 4, "w"), b(Float(32), 1, "b");
    dense_layout(in, {c.ci, c.w, c.h, 0});
    dense_layout(w, {c.co, c.ci, 3, 3});
    if (c.pool_w == 0) return forward_unpooled(c, kn, in, w, b);
    bool padded = false;
    Func src = conv_source(c, in, padded);
    const int PW = c.pooled_w(), PH = c.pooled_h();
    // A row of tiles is a pooled row of one image: row = py + n * PH.
    Products p = products([&](Expr o, Expr i, int kx, int ky) { return w(o, i, kx, ky); },
                          [&](Expr i, Expr tx, Expr row, int dx, int dy) { return src(i, 2 * tx + dx, 2 * (row % PH) + dy, row / PH); },
                          c.ci, c.co, PW, kn);

    // The 2x2 outputs of window (x, row) with the bias and the activation; q = a + 2 b is the
    // cell's place in the window, as the direct kernel numbers it.
    Var co("co"), q("q"), x("x"), row("row"), yv("y"), nv("n");
    Func z("wino_z");
    std::vector<Expr> cells(4);
    for (int cell = 0; cell < 4; ++cell) {
        Expr v = tile_output(p, co, x, row, cell % 2, cell / 2);
        cells[cell] = c.bias ? v + b(co) : v;
    }
    z(co, q, x, row) = mux(q, cells);
    Func act = activation_forward(c.act, z, 4, c.co);

    // The pooling: the direct kernel's max chain and index rule.
    Func pooled("pooled");
    pooled(co, x, yv, nv) = window_max(c, [&](int cell) { return act(co, cell, x, yv + nv * PH); });
    pooled.output_buffers()[0].dim(0).set_bounds(0, c.co).dim(1).set_bounds(0, PW).dim(2).set_bounds(0, PH);

    // Blocks of windows: a whole row unless the s_cols knob says, and at least a register tile
    // (a shorter block would shift its tile before the row's start).
    const int block = std::max(p.t.other, knob_or(kn.cols, PW, PW));
    schedule_products(p, pooled, schedule_pooled(pooled, c, kn, block), c.ci);
    if (padded) src.compute_root().parallel(src.args()[3]);
    k.pipeline = Pipeline(pooled);
    k.inputs = {in, w, b};
    return k;
}

// The input gradient is the same correlation run backwards: dL/dx(ci, x, y) = sum over co, kx,
// ky of w(co, ci, 2 - kx, 2 - ky) * dz(co, x + kx - 2 + pl, y + ky - 2 + pt), dz (unpooled by the
// forward's index, zero outside) the input, the flipped kernel with its channels swapped the
// weights. Its 2x2 tiles cover the input's rows and columns; an odd last one is cut (its cells
// past the edge are guarded, not stored).
KernelDef conv_backward_input_winograd(const ConvCfg& c, const Knobs& kn) {
    InputGradientArgs a;
    ImageParam& w = a.w;
    dense_layout(w, {c.co, c.ci, 3, 3});
    Func dz = conv_dz(c, a.y, a.dy, a.logits, a.arg);
    Func bounded = BoundaryConditions::constant_exterior(dz, 0.f, {{0, c.co}, {0, c.ow}, {0, c.oh}});
    Var co("co"), ci("ci"), x("x"), yy("y"), n("n");
    Func dzp("dz_padded");
    dzp(co, x, yy, n) = bounded(co, x - (2 - c.pl), yy - (2 - c.pt), n);
    const int TW = (c.w + 1) / 2, TH = (c.h + 1) / 2;
    // A row of tiles is a row of one image: row = ty + n * TH.
    Products p = products([&](Expr o, Expr i, int kx, int ky) { return w(i, o, 2 - kx, 2 - ky); },
                          [&](Expr i, Expr tx, Expr row, int dx, int dy) { return dzp(i, 2 * tx + dx, 2 * (row % TH) + dy, row / TH); },
                          c.co, c.ci, TW, kn);
    std::vector<Expr> cells(4);
    Expr row = yy / 2 + n * TH;
    for (int cell = 0; cell < 4; ++cell) cells[cell] = tile_output(p, ci, x / 2, row, cell % 2, cell / 2);
    Expr g = mux(x % 2 + 2 * (yy % 2), cells);
    Func dx("dx");
    dx(ci, x, yy, n) = a.dx(c, g, ci, x, yy, n);
    schedule_tiled_output(p, dx, c.ci, c.w, c.h, c.co);
    // dz (unpooled by the index, zero outside) is read where the input's values are made, not
    // stored first: stored per row of tiles, cats vs dogs' conv2d_1 took 67-157 ms against 15.
    return a.kernel(c, dx);
}

}  // namespace cnnc::engine
