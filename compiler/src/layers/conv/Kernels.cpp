// Conv1D/Conv2D in Halide: a register-blocked direct convolution with channels innermost (the
// schedule of Halide's apps/conv_layer: a tile of output channels × x positions accumulates in
// vector registers while the reduction over input channels and kernel taps runs outside it), and
// hand-written backward kernels for the input and the weights. Conv1D is Conv2D with height 1. A
// grouped convolution (DepthwiseConv2D: one group per channel) reads the input channels of its
// output's group; Conv2DTranspose's forward is the input-gradient with a bias and an activation.
#include <algorithm>
#include <cmath>
#include <functional>

#include "ir/Activation.h"
#include "kernels/Activation.h"
#include "kernels/KernelDef.h"
#include "kernels/Schedule.h"
#include "kernels/Tuning.h"
#include "layers/conv/Config.h"
#include "layers/conv/KernelsShared.h"

namespace cnnc::engine {
using namespace Halide;

// The register-blocked schedule of a convolution-shaped stage `out(c, x, y, n) = acc(...)` whose
// update reduces over `red`: a tile of channels (t.vecs vectors) × t.other x positions lives in
// registers while the reduction runs around it (apps/conv_layer's CPU schedule). Leaves the
// (y, n) loops to the caller. With `weights_stationary` (the s_order=1 knob), one channel tile
// runs over all of an image's rows before the next, so a row reads only that tile's weights: deep
// layers' weights (cats vs dogs' conv2d_3, 1.2 MB) outgrow L2, and the row order streams all of
// them once per row. Returns the channel-tile loop, which then sits just inside the image loop.
Var register_tiled(Func out, Func acc, std::vector<RVar> red, const Tile& t, bool weights_stationary) {
    Var oc = out.args()[0], ox = out.args()[1], oy = out.args()[2], on = out.args()[3];
    Var ac = acc.args()[0], ax = acc.args()[1];
    Var co("tile_co"), ci("tile_ci"), xo("tile_xo"), xi("tile_xi");
    out.split(oc, co, ci, t.vec * t.vecs)
        .split(ox, xo, xi, t.other)
        .reorder(ci, xi, xo, weights_stationary ? oy : co, weights_stationary ? co : oy, on)
        .vectorize(ci, t.vec)
        .unroll(ci)
        .unroll(xi);
    std::vector<VarOrRVar> order = {ac, ax};
    for (const RVar& r : red) order.emplace_back(r);
    acc.compute_at(out, xo).vectorize(ac, t.vec).unroll(ac).unroll(ax);
    acc.update().reorder(order).vectorize(ac, t.vec).unroll(ac).unroll(ax);
    return co;
}

// Weights `w` (o, i, kx, ky) as register tile `t` reads them: the t.vec × t.vecs values of o
// that one tile multiplies innermost, then the reduction, then the tiles: f(o % T, i, kx, ky,
// o / T), T = t.vec × t.vecs, made once per call (`count` values; in parallel when that is big).
// In Keras' (kh, kw, ci, co) order the tile's next reduction step lies a row of co floats
// away (1 KB at 256 channels), so every step touched new cache lines at a stride that leaves a
// 4 KB page every few steps, where the hardware prefetchers stop: a deep layer whose weights live
// in L3 waited on them (cats vs dogs' conv2d_4 forward at 73 % of peak). oneDNN keeps its weights
// blocked so (OIhw16i16o); cnnc keeps Keras' layout everywhere else (optimizers, weights files),
// and repacks in the kernel, where it costs one pass over the weights (2.4 MB there).
// With `columns_inner`, a kernel row's columns come before i (the input gradient's order where
// its tile spans the row).
Func tile_weights(Func w, const Tile& t, int count, bool columns_inner = false) {
    const int T = t.vec * t.vecs;
    Var ov("ov"), i("i"), kx("kx"), ky("ky"), ob("ob");
    Func f("w_tiled");
    f(ov, i, kx, ky, ob) = w(ob * T + ov, i, kx, ky);
    if (columns_inner) f.reorder_storage(ov, kx, i, ky, ob).reorder(ov, kx, i, ky, ob);
    f.compute_root().vectorize(ov, t.vec);
    if (count >= (64 << 10)) f.parallel(ob);
    return f;
}

// The input as the convolution reads it: shifted by the 'same' padding and zero outside, or the
// input itself when every window fits (no boundary checks then). `padded` says which.
Func conv_source(const ConvCfg& c, ImageParam& in, bool& padded) {
    Var ci("ci"), x("x"), y("y"), n("n");
    Func src("src");
    padded = c.pl > 0 || c.pt > 0 || (c.ow - 1) * c.sx + (c.kw - 1) * c.dx + 1 > c.w || (c.oh - 1) * c.sy + (c.kh - 1) * c.dy + 1 > c.h;
    if (padded) {
        Func bounded = BoundaryConditions::constant_exterior(in, 0.f, {{0, c.ci}, {0, c.w}, {0, c.h}});
        src(ci, x, y, n) = bounded(ci, x - c.pl, y - c.pt, n);
    } else {
        src(ci, x, y, n) = in(ci, x, y, n);
    }
    return src;
}

// The first input channel of output channel `co`'s group (0 without groups, so an ungrouped
// kernel's code is as before).
Expr group_first_input(const ConvCfg& c, Expr co) {
    return c.groups == 1 ? Expr(0) : (co / c.out_per_group()) * c.in_per_group();
}

// A fused pooling's window (ConvCfg::pool_w): its maximum and the index of its first cell that
// holds it, from `cell(q)`, q in row-major window order. The same max chain as pool_fwd (so the
// same value); only a strictly larger value moves the index, as pool_bwd's "no earlier cell" rule.
// After a relu, a window whose maximum is not positive passes no gradient (relu' is 0 there): its
// index is -1, so the backward kernels (conv_dz) need not read y at all, a third of their memory
// traffic (cats vs dogs' first convolution: 32 MB of 97).
Tuple window_max(const ConvCfg& c, const std::function<Expr(int)>& cell) {
    Expr best, idx = 0.f;
    for (int q = 0; q < c.pool_w * c.pool_h; ++q) {
        Expr v = cell(q);
        if (!best.defined()) {
            best = v;
            continue;
        }
        idx = select(v > best, static_cast<float>(q), idx);
        best = max(best, v);
    }
    if (c.act == "relu") idx = select(best > 0.f, idx, -1.f);
    return Tuple(best, idx);
}

// The schedule of a fused pooling's output `pooled` (co, px, py, n): tasks of pooled rows (of
// every image), each made `block` pooled columns at a time. Returns the block loop, where the
// convolution's part of a block is computed.
Var schedule_pooled(Func pooled, const ConvCfg& c, const Knobs& kn, int block) {
    const Var co = pooled.args()[0], px = pooled.args()[1], py = pooled.args()[2], n = pooled.args()[3];
    Var pyn("pyn"), pyo("pyo"), pyi("pyi"), pxo("pxo"), pxi("pxi");
    const int grain = knob_or(kn.grain, c.pooled_h(), pooled_rows_per_task(c));
    pooled.vectorize(co, sched::vector_width(c.co))
        .split(px, pxo, pxi, block, TailStrategy::GuardWithIf)
        .fuse(py, n, pyn)
        .split(pyn, pyo, pyi, grain, TailStrategy::GuardWithIf)
        .reorder(co, pxi, pxo, pyi, pyo)
        .parallel(pyo);
    return pxo;
}

// The pooled rows a task of conv_fwd makes where it pools (ConvCfg::pool_w): about half a MFLOP
// of convolution, at most an image. One pooled row a task would be 30 KFLOP for MNIST's first
// convolution, less than the cost of handing the task out: 832 such tasks took 0.47 ms where
// 64 of 13 rows take 0.2.
int pooled_rows_per_task(const ConvCfg& c) {
    const double row = 2.0 * c.co * c.pooled_w() * c.pool_w * c.pool_h * c.in_per_group() * c.kw * c.kh;
    return std::clamp(static_cast<int>(std::ceil(5e5 / std::max(row, 1.0))), 1, std::max(1, c.pooled_h()));
}

namespace {

// The pooled columns of a block of about `bytes` of conv_fwd's activated rows (ConvCfg::pool_w):
// whole register tiles, at least one.
int pooled_columns(const ConvCfg& c, const Tile& t, int bytes) {
    const int column = 4 * c.co * c.pool_h;  // bytes of one column of a block's activated rows
    const int tiles = std::max(1, bytes / column / t.other);
    return std::min(c.pooled_w(), (tiles * t.other + c.pool_w - 1) / c.pool_w);
}
// The block the fused pooling's default is made of. A block's activated rows (co x columns x
// pool_h) are stored, then read back by the pooling: a whole row of cats vs dogs' first
// convolution is 45 KB, Zen 5's L1 is 48, and blocks of 8 KB took its forward from 8.0 to 5.0-6.4
// ms. But every block reads all the weights again, so only where they fit in L1 beside the block
// (that one's are 3.5 KB; its conv2d_3's 1.2 MB went from 28 to 37-47 ms in 8 KB blocks): whole
// rows otherwise.
constexpr int kPoolBlockBytes = 8 << 10, kPoolBlockMaxWeights = 16 << 10;
int pooled_block(const ConvCfg& c, const Tile& t) {
    const double weights = 4.0 * c.co * c.in_per_group() * c.kw * c.kh;
    return weights > kPoolBlockMaxWeights ? c.pooled_w() : pooled_columns(c, t, kPoolBlockBytes);
}

// A block knob as the kernel can take it: at least one register tile of columns (a smaller block
// would shift its tile before the row's start), at most the row.
int pooled_block(const ConvCfg& c, const Tile& t, const Knobs& kn) {
    const int least = std::min(c.pooled_w(), (t.other + c.pool_w - 1) / c.pool_w);
    return std::max(least, knob_or(kn.cols, c.pooled_w(), pooled_block(c, t)));
}

KernelDef conv_forward(const ConvCfg& c, const Knobs& kn) {
    if (kn.order == kWinogradOrder && winograd_fits(c)) return conv_forward_winograd(c, kn);
    KernelDef k;
    ImageParam in(Float(32), 4, "in"), w(Float(32), 4, "w"), b(Float(32), 1, "b");
    dense_layout(in, {c.ci, c.w, c.h, 0});
    dense_layout(w, {c.co, c.in_per_group(), c.kw, c.kh});
    Var co("co"), x("x"), y("y"), n("n");
    bool padded = false;
    Func src = conv_source(c, in, padded);
    RDom r(0, c.in_per_group(), 0, c.kw, 0, c.kh, "r");
    Func conv("conv");
    conv(co, x, y, n) = c.bias ? b(co) : 0.f;
    // The register tile (the pooled branch's covers the columns the windows cover) and the
    // weights in its order (tile_weights), unless the convolution is grouped or a softmax
    // computes whole pixels.
    const Tile t = c.pool_w > 0 ? register_tile(kn, c.co, c.pooled_w() * c.pool_w) : register_tile(kn, c.co, c.ow);
    const int T = t.vec * t.vecs;
    Expr wv = w(co, r.x, r.y, r.z);
    if (c.groups == 1 && !activation_traits(c.act).across_channels)
        wv = tile_weights(w, t, c.co * c.ci * c.kw * c.kh)(co % T, r.x, r.y, r.z, co / T);
    conv(co, x, y, n) += wv * src(group_first_input(c, co) + r.x, x * c.sx + r.y * c.dx, y * c.sy + r.z * c.dy, n);
    Func out = activation_forward(c.act, conv, 4, c.co);
    if (c.pool_w > 0) {
        // The tiled max pooling after it (ConvCfg::pool_w): a task makes pool_h rows of the
        // activated output, a block of columns at a time (pooled_block), which stays in L1 while
        // it is pooled; the full-size output is never stored.
        const int pw = c.pool_w, ph = c.pool_h;
        Var px("px"), py("py");
        Func pooled("pooled");
        pooled(co, px, py, n) = window_max(c, [&](int q) { return out(co, px * pw + q % pw, py * ph + q / pw, n); });
        // (Halide gives a second output the first's bounds.)
        pooled.output_buffers()[0].dim(0).set_bounds(0, c.co).dim(1).set_bounds(0, c.pooled_w()).dim(2).set_bounds(0, c.pooled_h());
        // The tile fits the columns the windows cover (an odd last one is dropped, as Keras does).
        register_tiled(out, conv, {r.x, r.y, r.z}, t);
        out.compute_at(pooled, schedule_pooled(pooled, c, kn, pooled_block(c, t, kn)));
        if (padded) src.compute_root().parallel(n);
        k.pipeline = Pipeline(pooled);
        k.inputs = {in, w, b};
        return k;
    }
    out.output_buffer().dim(0).set_bounds(0, c.co);

    Var yn("yn");
    const bool depthwise_strips = c.in_per_group() == 1 && padded && !activation_traits(c.act).across_channels;
    if (activation_traits(c.act).across_channels) {
        conv.compute_root().vectorize(co, t.vec).parallel(n);
    } else if (depthwise_strips) {
        // Depthwise (one input channel per group): memory-bound, 9 multiply-adds per value. The
        // padded input is made per strip of output rows, while it is in cache, instead of in a
        // separate pass over the whole batch (which doubled the memory traffic).
        register_tiled(out, conv, {r.x, r.y, r.z}, t);
        Var yo("yo"), yi("yi");
        out.split(out.args()[2], yo, yi, 8, TailStrategy::GuardWithIf).fuse(yo, out.args()[3], yn).parallel(yn);
        src.compute_at(out, yn).vectorize(src.args()[0], sched::vector_width(c.ci));
    } else if (kn.order == 1) {
        // Weights-stationary: (image, channel tile) pairs are the parallel tasks.
        Var tile = register_tiled(out, conv, {r.x, r.y, r.z}, t, true);
        out.fuse(tile, out.args()[3], yn).parallel(yn);
    } else {
        register_tiled(out, conv, {r.x, r.y, r.z}, t);
        // Rows (of every image) in parallel, `grain` a task: one row each by default; more when
        // rows are short and the fork/join per task shows (MNIST's 26-pixel rows).
        const int grain = knob_or(kn.grain, c.oh, 1);
        out.fuse(out.args()[2], out.args()[3], yn);
        if (grain > 1)
            out.parallel(yn, grain, TailStrategy::GuardWithIf);
        else
            out.parallel(yn);
    }
    if (padded && !depthwise_strips) src.compute_root().parallel(n);
    k.pipeline = Pipeline(out);
    k.inputs = {in, w, b};
    return k;
}

}  // namespace

// dL/dz from the stored output and dL/dy (inlined into its consumer unless scheduled). With a
// fused pooling (ConvCfg::pool_w), y and dy are the pooling's and `arg` each window's first
// maximum: that cell gets the window's dL/dz (the activation's derivative taken from the pooled
// value, which is that cell's y), every other cell zero.
Func conv_dz(const ConvCfg& c, ImageParam& y, ImageParam& dy, Param<int>& logits, ImageParam& arg) {
    Func fy("fy"), fdy("fdy");
    Var co("co"), x("x"), yy("y"), n("n");
    dense_layout(y, {c.co, c.pooled_w(), c.pooled_h(), 0});
    dense_layout(dy, {c.co, c.pooled_w(), c.pooled_h(), 0});
    fy(co, x, yy, n) = y(co, x, yy, n);
    fdy(co, x, yy, n) = dy(co, x, yy, n);
    Func dz = activation_backward(c.act, fy, fdy, 4, c.co, logits != 0);
    if (c.pool_w == 0) return dz;
    // relu's derivative is in the index already (conv_forward: -1 where it is 0).
    if (c.act == "relu") dz = fdy;
    dense_layout(arg, {c.co, c.pooled_w(), c.pooled_h(), 0});
    const int pw = c.pool_w, ph = c.pool_h;
    Expr px = x / pw, py = yy / ph, cx = min(px, c.pooled_w() - 1), cy = min(py, c.pooled_h() - 1);
    Expr cell = cast<float>((x - px * pw) + (yy - py * ph) * pw);
    Func full("dz_unpooled");
    full(co, x, yy, n) = select(px < c.pooled_w() && py < c.pooled_h() && arg(co, cx, cy, n) == cell, dz(co, cx, cy, n), 0.f);
    return full;
}

// The columns of dW's matrix that the tiles reduce: K, or K + 1 where the bias gradient rides along
// as a column of ones appended to the input patches. Then it comes out of the dz block the tiles
// already read from L1, instead of a second pass over y and dy in memory (cats vs dogs' first
// convolution, K = 27: that pass cost as much as the whole dW). Only where a register tile divides
// K + 1 as well as one divides K: 289 columns (K = 288) would leave a one-vector tile of 17. And
// only for small K (a first convolution's): the ones column's select stays in every tile's inner
// loop (Halide does not partition it out through the tile's producer), which costs more than the
// second pass's 1/K of the work once K is large (cats vs dogs' conv2d_4, K = 2304: 5-8 %).
constexpr int kBiasColumnMaxK = 64;  // a first convolution's K: 9 taps x up to 7 channels
constexpr int kUnrolledColumnTiles = 8;  // dW's column tiles unrolled (conv_backward_weights)
int dw_columns(const ConvCfg& c) {
    const int K = c.in_per_group() * c.kw * c.kh;
    if (K > kBiasColumnMaxK) return K;
    const Tile plain = register_tile(c.co, K, true), fused = register_tile(c.co, K + 1, true);
    const bool better_or_equal = fused.vecs >= plain.vecs && tile_score(fused, K + 1, kDefaultAccumulators) >=
                                 tile_score(plain, K, kDefaultAccumulators);
    return c.bias && better_or_equal ? K + 1 : K;
}

// dW's register tile: the knobs' where they name one, else the default tile, but with columns
// that divide a kernel tap's input channels where there are enough of them (8 or more). Such a
// tile's columns are consecutive input channels of one tap, whose addresses Halide derives from
// the tile's first; a tile across a tap boundary computes each column's address on its own (the
// column's div and mod by the channels) in the innermost loop. Cats vs dogs' conv2d_4 (256
// channels, K = 2304): 7.6 ms with a 4 x 4 tile against 9.4 with the 4 x 6 default.
Tile dw_tile(const ConvCfg& c, const Knobs& kn) {
    const int cols = dw_columns(c), cpg = c.in_per_group();
    const Tile t = register_tile(kn, c.co, cols, /*exact=*/true);
    if (t == Tile{kn.vec, kn.vecs, kn.other} || cpg < 8 || cpg % t.other == 0) return t;
    return best_tile(c.co, cols, true, kDefaultAccumulators, t.vec, [cpg](const Tile& u) { return cpg % u.other == 0; });
}

namespace {

// dL/dW as a (Co, Ci*KW*KH) matrix — exactly the memory of Keras' (kh, kw, ci, co) kernel — so
// the register tile runs over output channels × any mix of input channels and taps: a first
// convolution with one input channel still gets a full tile (its 9 taps), not a single column.
//
// Loop structure (why it is not one big reduction): the batch is cut into kChunks parallel
// chunks; within a chunk, image by image, every tile of dW accumulates that image's positions in
// registers and then adds them to the chunk's partial sum. One image's dz and input stay in L1/L2
// while all tiles read them, instead of every tile streaming the whole batch. The chunks' partial
// sums are added at the end.
KernelDef conv_backward_weights(const ConvCfg& c, const Knobs& kn) {
    const int kChunks = knob_or(kn.chunks, 16, 4);
    KernelDef k;
    ImageParam in(Float(32), 4, "in"), y(Float(32), 4, "y"), dy(Float(32), 4, "dy"), arg(Float(32), 4, "arg");
    Param<int> logits("logits");
    dense_layout(in, {c.ci, c.w, c.h, 0});
    Func dz = conv_dz(c, y, dy, logits, arg);
    const int cpg = c.in_per_group(), K = cpg * c.kw * c.kh;
    Var co("co"), kk("kk"), ci("ci"), x("x"), yy("y"), n("n"), u("u");
    bool padded = false;
    Func src = conv_source(c, in, padded);
    const int cols = dw_columns(c);
    const bool bias_column = cols == K + 1;
    // Column K (the bias's) reads the last tap's address, so bounds stay those of the convolution.
    Expr kc = bias_column ? min(kk, K - 1) : Expr(kk);
    Expr kci = kc % cpg, kx = (kc / cpg) % c.kw, ky = kc / (cpg * c.kw);
    // One block of rows of one image, reduced over its output positions. A block's dz (about 32 KB)
    // stays in L1 while every tile reads it; a large image (cats vs dogs: 178 x 178 x 32) is cut
    // into several blocks instead of streaming 4 MB through each tile.
    const int rows = std::max(1, std::min(c.oh, (32 << 10) / std::max(1, c.ow * c.co * 4)));
    const int blocks = (c.oh + rows - 1) / rows;
    Var b("b");
    RDom rp(0, c.ow, 0, rows, "rp");
    Expr oy = b * rows + rp.y;
    rp.where(oy < c.oh);
    Expr cy = min(oy, c.oh - 1);  // for bounds inference; `where` skips the rows past the end
    Func img("dw_block");
    img(co, kk, n, b) = 0.f;
    Expr patch = src(group_first_input(c, co) + kci, rp.x * c.sx + kx * c.dx, cy * c.sy + ky * c.dy, n);
    // likely(): Halide partitions the tile loop, so only the last tile carries the select.
    if (bias_column) patch = select(likely(kk < K), patch, 1.f);
    img(co, kk, n, b) += dz(co, rp.x, cy, n) * patch;
    // A chunk's partial sum over its images' blocks.
    Expr batch = in.dim(3).extent(), chunk = (batch + kChunks - 1) / kChunks;
    RDom rc(0, blocks, 0, chunk, "rc");
    rc.where(u * chunk + rc.y < batch);
    Func part("dw_part");
    part(co, kk, u) = 0.f;
    part(co, kk, u) += img(co, kk, min(u * chunk + rc.y, batch - 1), rc.x);  // min: bounds inference, as above
    RDom ru(0, kChunks, "ru");
    Func dw("dw"), db("db");
    dw(co, kk) = 0.f;
    dw(co, kk) += part(co, kk, ru);
    // The bias gradient: column K of the chunks' sums, or its own pass (the same chunks in
    // parallel, then their sum).
    Func bpart("db_part"), dbias("db_acc");
    if (!c.bias) {
        bpart(co, u) = 0.f;  // no bias to differentiate (a convolution before BatchNormalization): no pass
    } else if (bias_column) {
        bpart(co, u) = part(co, K, u);
    } else {
        Func dz_for_bias = conv_dz(c, y, dy, logits, arg);  // its own copy: dz is computed per block for the tiles
        RDom rb(0, c.ow, 0, c.oh, 0, chunk, "rb");
        rb.where(u * chunk + rb.z < batch);
        bpart(co, u) = 0.f;
        bpart(co, u) += dz_for_bias(co, rb.x, rb.y, min(u * chunk + rb.z, batch - 1));
    }
    dbias(co) = 0.f;
    dbias(co) += bpart(co, ru);
    db(co) = dbias(co);
    dense_layout(dw.output_buffer(), {c.co, K});
    db.output_buffer().dim(0).set_bounds(0, c.co);

    const Tile t = dw_tile(c, kn);
    Var coo("coo"), coi("coi"), ko("ko"), ki("ki");
    part.compute_root().vectorize(co, t.vec).parallel(u);
    part.update()
        .split(co, coo, coi, t.vec * t.vecs)
        .split(kk, ko, ki, t.other)
        .reorder(coi, ki, coo, ko, rc.x, rc.y, u)
        .vectorize(coi, t.vec)
        .unroll(coi)
        .unroll(ki)
        .parallel(u);
    img.compute_at(part, coo)
        .vectorize(co, t.vec)
        .unroll(co)
        .unroll(kk)
        .update()
        .reorder(co, kk, rp.x, rp.y)
        .vectorize(co, t.vec)
        .unroll(co)
        .unroll(kk);
    // The activation's derivative once per block, shared by every tile, in storage made once per
    // image (Halide folds it to a block's rows) rather than allocated and freed per block, which
    // cost a sixth to a half of the small-block kernels: cats vs dogs' first convolution (one
    // row a block, 5,700 blocks a call), MNIST's.
    dz.compute_at(part, rc.x).store_at(part, rc.y).vectorize(dz.args()[0], sched::vector_width(c.co));
    // Under a fused pooling, a window's columns unrolled: each column's cell in the window is a
    // constant, and the window's index and dL/dy are loaded once for all of them. One column at a
    // time, each converted its cell to float and loaded both again: cats vs dogs' first
    // convolution spent a fifth of its dW there with its data in cache, over a third without
    // (7.4-8.2 -> 5.0-5.7 ms, Zen 5).
    if (c.pool_w > 0) {
        Var wo("wo"), wi("wi");
        dz.split(dz.args()[1], wo, wi, c.pool_w, c.ow % c.pool_w == 0 ? TailStrategy::RoundUp : TailStrategy::GuardWithIf).unroll(wi);
    }
    // A few column tiles (a first convolution's: 27 or 28 columns): unrolled, so each tile's
    // columns are constants, their input addresses fold (the tile's first column is not a tap's
    // first, 7 of 28) and the bias column's select goes. Cats vs dogs' first convolution: 11-17 %.
    if (cols / t.other <= kUnrolledColumnTiles) part.update().unroll(ko);
    // The chunks' sum: in parallel where it is big (cats vs dogs' conv2d_4: 4 partial sums of
    // 2.4 MB, 1-1.5 ms on one thread, 15 % of that dW).
    dw.vectorize(co, t.vec).update().vectorize(co, t.vec);
    if (c.co * cols >= (64 << 10)) {
        Var kb("kb");
        dw.update().split(kk, kb, kk, 64, TailStrategy::GuardWithIf).parallel(kb);
    }
    if (c.bias && !bias_column) bpart.compute_root().vectorize(co, t.vec).parallel(u).update().vectorize(co, t.vec).parallel(u);
    dbias.compute_root().vectorize(co, t.vec).update().vectorize(co, t.vec);
    if (padded) src.compute_root().parallel(n);
    k.pipeline = Pipeline({dw, db});
    k.inputs = {in, y, dy};
    if (c.pool_w > 0) k.inputs.push_back(arg);
    k.ints = {logits};
    return k;
}

}  // namespace

// The input gradient's register tile: the knobs' where they name one; else the default tile, or
// one that spans the whole row where that does more useful work. A tile that spans a row skips
// the taps on dz's zero border columns (input_gradient), so its useful share is 1 where another
// tile's is ow / w: cats vs dogs' conv2d_4 (7 -> 9 columns) ran its default 4 x 3 tile at
// 7.9 ms, a 2 x 9 one at 5.2.
Tile dx_tile(const ConvCfg& c, const Knobs& kn) {
    const Tile t = register_tile(kn, c.ci, c.w);
    if (t == Tile{kn.vec, kn.vecs, kn.other} || c.sx != 1 || c.sy != 1 || t.other == c.w) return t;
    const int w = c.w;
    // A row tile of one vector (where the default has more) is left out: it broadcasts a dz
    // value for every multiply-add, 21 loads to 20 FMAs for cats vs dogs' conv2d_3 (20 columns,
    // 128 channels), which took 30.8 ms so against 18.2 with the default 4 x 4 (Zen 5).
    const Tile row = best_tile(c.ci, w, false, kDefaultAccumulators, t.vec,
                               [w, t](const Tile& u) { return u.other == w && (u.vecs >= 2 || t.vecs == 1); });
    const bool better = row.other == w && tile_score(row, w, kDefaultAccumulators) > tile_score(t, w, kDefaultAccumulators) * c.ow / w;
    return better ? row : t;
}

namespace {

// Whether the input gradient's register tile spans a whole row (of a stride-1 convolution):
// the case whose border columns input_gradient can skip.
bool spans_row(const ConvCfg& c, const Knobs& kn) {
    return c.sx == 1 && c.sy == 1 && dx_tile(c, kn).other == c.w;
}

// The input-gradient of convolution `c` from dL/dz (`dz`, over (co, x, y, n)): `acc` starts at
// `init` (which may read Var("ci"): Halide identifies variables by name) and reduces over `r` (the
// output channels of the input's group and the kernel taps), reading dz through `dz_padded`,
// which its consumer schedules per image. A strided convolution's taps that fall between dz's
// pixels multiply by zero under a select: simple, at the cost of (stride² - 1) / stride² of them.
// Where the register tile spans a row (spans_row: its columns are then constants), the taps that
// fall on dz's zero border columns are skipped as well (see below). `across`: a softmax after it
// computes whole pixels, not register tiles.
struct InputGradient {
    Func acc, dz_padded;
    RDom r;
};

InputGradient input_gradient(const ConvCfg& c, ImageParam& w, Func dz, Expr init, const Knobs& kn, bool across) {
    const int cpg = c.in_per_group(), fpg = c.out_per_group();
    dense_layout(w, {c.co, cpg, c.kw, c.kh});
    const bool whole_rows = !across && spans_row(c, kn);
    Var ci("ci"), j("j"), kx("kx"), ky("ky"), x("x"), yy("y"), n("n");
    // Weights transposed so input channels are innermost (vectorised), as the forward does: j is
    // the output channel within the input channel's group. Ungrouped, in the register tile's
    // order (tile_weights), where the transposition happens on the way.
    Expr group_out = c.groups == 1 ? Expr(0) : (ci / cpg) * fpg;
    Func wt("wt");
    wt(ci, j, kx, ky) = w(group_out + j, c.groups == 1 ? ci : ci % cpg, kx, ky);
    std::function<Expr(Expr, Expr, Expr)> weight = [=](Expr j, Expr kx, Expr ky) { return wt(ci, j, kx, ky); };
    if (c.groups == 1 && !across) {
        const Tile t = dx_tile(c, kn);
        const int T = t.vec * t.vecs;
        Func tiled = tile_weights(wt, t, c.co * c.ci * c.kw * c.kh, whole_rows);
        weight = [=](Expr j, Expr kx, Expr ky) { return tiled(ci % T, j, kx, ky, ci / T); };
    } else {
        wt.compute_root();
    }
    // dz with a zero border, materialised one image at a time (it stays in cache for the image's
    // rows) with the activation's derivative applied on the way.
    Func dzp("dz_padded");
    Func bounded = BoundaryConditions::constant_exterior(dz, 0.f, {{0, c.co}, {0, c.ow}, {0, c.oh}});
    Var co("co");
    dzp(co, x, yy, n) = bounded(co, x, yy, n);
    RDom r(0, fpg, 0, c.kw, 0, c.kh, "r");
    Func acc("dx_acc");
    // x = X*s... inverted: output position ox contributes to input X = ox*s + kx*d - pad.
    Expr ex = x + c.pl - r.y * c.dx, ey = yy + c.pt - r.z * c.dy;
    acc(ci, x, yy, n) = init;
    if (c.sx == 1 && c.sy == 1) {
        // Skip the kernel rows that fall on dz's zero border for this output row: a whole row of
        // the tile at once, so the check costs nothing inside the register tile. Where the tile
        // spans the row, its columns and the unrolled kernel columns are constants, so the column
        // check folds away too, and a tap on the border is simply not generated: cats vs dogs'
        // 7 x 7 -> 9 x 9 input gradient multiplied 27 taps a row where 21 are real (a 22 % loss).
        // Elsewhere the columns vary across the tile and the border multiplies zeros.
        Expr rows_ok = ey >= 0 && ey < c.oh;
        r.where(whole_rows ? rows_ok && ex >= 0 && ex < c.ow : rows_ok);
        acc(ci, x, yy, n) += weight(r.x, r.y, r.z) * dzp(group_out + r.x, ex, ey, n);
    } else {
        Expr ok = (ex % c.sx == 0) && (ey % c.sy == 0);
        acc(ci, x, yy, n) += select(ok, weight(r.x, r.y, r.z) * dzp(group_out + r.x, ex / c.sx, ey / c.sy, n), 0.f);
    }
    dzp.vectorize(co, sched::vector_width(c.co));
    return {acc, dzp, r};
}

// The schedule of a stage `out` over an input gradient: register tiles, images in parallel, dz
// padded once per image.
void schedule_input_gradient(const ConvCfg& c, const Knobs& kn, Func out, InputGradient g) {
    const Tile t = dx_tile(c, kn);
    if (spans_row(c, kn)) {
        // The kernel columns unrolled inside each output channel, so every (column, tap) pair is
        // a constant and the border's are dropped (input_gradient's `whole_rows`); the output's
        // columns are pinned, so the one tile a row starts at a constant 0.
        out.output_buffer().dim(1).set_bounds(0, c.w);
        register_tiled(out, g.acc, {g.r.y, g.r.x, g.r.z}, t, kn.order == 1);
        g.acc.update().unroll(g.r.y);
    } else {
        register_tiled(out, g.acc, {g.r.x, g.r.y, g.r.z}, t, kn.order == 1);
    }
    out.parallel(out.args()[3]);
    g.dz_padded.compute_at(out, out.args()[3]);
}

}  // namespace

Expr InputGradientArgs::dx(const ConvCfg& c, const Expr& g, const Var& ci, const Var& x, const Var& y, const Var& n) {
    if (c.input_act.empty()) return g;
    dense_layout(in, {c.ci, c.w, c.h, 0});
    return activation_gradient(c.input_act, in(ci, x, y, n), g);
}

KernelDef InputGradientArgs::kernel(const ConvCfg& c, Func dx) {
    KernelDef k;
    k.pipeline = Pipeline(dx);
    k.inputs = {w, y, dy};
    if (!c.input_act.empty()) k.inputs.push_back(in);
    if (c.pool_w > 0) k.inputs.push_back(arg);
    k.ints = {logits};
    return k;
}

namespace {

KernelDef conv_backward_input(const ConvCfg& c, const Knobs& kn) {
    if (kn.order == kWinogradOrder && winograd_fits(c)) return conv_backward_input_winograd(c, kn);
    InputGradientArgs a;
    InputGradient g = input_gradient(c, a.w, conv_dz(c, a.y, a.dy, a.logits, a.arg), 0.f, kn, false);
    Var ci("ci"), x("x"), yy("y"), n("n");
    Func dx("dx");
    dx(ci, x, yy, n) = a.dx(c, g.acc(ci, x, yy, n), ci, x, yy, n);  // (the activation's derivative as each tile is stored)
    dx.output_buffer().dim(0).set_bounds(0, c.ci);
    schedule_input_gradient(c, kn, dx, g);
    return a.kernel(c, dx);
}

// Conv2DTranspose's forward: the input-gradient of convolution `c` (whose output is the
// transposed layer's input) at the layer's input, plus the bias (c.bias, over c.ci channels) and
// the activation (c.act) of the transposed layer.
KernelDef conv_transpose_forward(const ConvCfg& c, const Knobs& kn) {
    KernelDef k;
    ImageParam in(Float(32), 4, "in"), w(Float(32), 4, "w"), b(Float(32), 1, "b");
    dense_layout(in, {c.co, c.ow, c.oh, 0});
    Var ci("ci"), co("co"), x("x"), yy("y"), n("n");
    Func dz("dz");
    dz(co, x, yy, n) = in(co, x, yy, n);
    const bool across = activation_traits(c.act).across_channels;
    InputGradient g = input_gradient(c, w, dz, c.bias ? b(ci) : Expr(0.f), kn, across);
    Func out = activation_forward(c.act, g.acc, 4, c.ci);
    out.output_buffer().dim(0).set_bounds(0, c.ci);
    if (across) {  // softmax: the whole pixel first
        g.acc.compute_root().vectorize(g.acc.args()[0], sched::vector_width(c.ci)).parallel(g.acc.args()[3]);
        g.dz_padded.compute_at(g.acc, g.acc.args()[3]);
    } else {
        schedule_input_gradient(c, kn, out, g);
    }
    k.pipeline = Pipeline(out);
    k.inputs = {in, w, b};
    return k;
}

}  // namespace

KernelDef build_conv_fwd(const KernelSpec& s) { return conv_forward(ConvCfg::from(s), Knobs::from(s)); }
KernelDef build_conv_bwd_w(const KernelSpec& s) { return conv_backward_weights(ConvCfg::from(s), Knobs::from(s)); }
KernelDef build_conv_bwd_x(const KernelSpec& s) { return conv_backward_input(ConvCfg::from(s), Knobs::from(s)); }
KernelDef build_conv_t_fwd(const KernelSpec& s) { return conv_transpose_forward(ConvCfg::from(s), Knobs::from(s)); }

// ---- what the tuner measures (kernels/Tuning.h) ----
namespace {
std::vector<int> weights_shape(const ConvCfg& c) { return {c.co, c.in_per_group(), c.kw, c.kh}; }
std::vector<int> input_shape(const ConvCfg& c, int n) { return {c.ci, c.w, c.h, n}; }
std::vector<int> output_shape(const ConvCfg& c, int n) { return {c.co, c.ow, c.oh, n}; }
// What the kernels read as y and dy (and, pooled, the argmax): the fused pooling's output.
std::vector<int> pooled_shape(const ConvCfg& c, int n) { return {c.co, c.pooled_w(), c.pooled_h(), n}; }
double conv_flops(const ConvCfg& c, int n) { return 2.0 * c.co * c.ow * c.oh * n * c.in_per_group() * c.kw * c.kh; }
// The weights-stationary order (s_order=1) with each tile of `knobs`, at Full only: where weights
// outgrow L2 the row order reads all of them once per output row, but on a Zen 5 (1 MB of L2) no
// quick search chose it for any of cats-vs-dogs' layers (weights up to 2.4 MB), so quick tuning
// does not pay for compiling it.
void add_weights_stationary(const TuneRequest& q, std::vector<Knobs>& knobs) {
    if (q.level != TuneLevel::Full) return;
    for (size_t i = 0, tiles = knobs.size(); i < tiles; ++i)
        if (knobs[i].grain == 0) {
            Knobs k = knobs[i];
            k.order = 1;
            knobs.push_back(k);
        }
}
// Winograd's F(2x2, 3x3) where it fits (KernelsWinograd.cpp): measured, kept where it wins.
void add_winograd(const ConvCfg& c, std::vector<Knobs>& knobs) {
    if (winograd_fits(c)) knobs.push_back(Knobs{0, 0, 0, 0, 0, kWinogradOrder});
}
}  // namespace

TuneProblem tune_conv_fwd(const KernelSpec& s, const TuneRequest& q) {
    const int n = q.batch;
    ConvCfg c = ConvCfg::from(s);
    if (c.pool_w > 0) {  // its own loop: the tile alone is tuned
        TuneProblem p{{input_shape(c, n), weights_shape(c), {c.co}}, {pooled_shape(c, n)}, {}, tile_knobs(c.co, c.pooled_w() * c.pool_w, false, q),
                      conv_flops(c, n)};
        p.outputs.push_back(pooled_shape(c, n));  // the argmax
        const int g = pooled_rows_per_task(c);  // and tasks of a quarter and of four times the default's rows
        for (int alt : {std::max(1, g / 4), std::min(c.pooled_h(), g * 4)})
            if (alt != g && (q.level == TuneLevel::Full || alt < g)) p.candidates.push_back(Knobs{0, 0, 0, alt, 0});
        // Blocks of columns against whole rows: the default (pooled_block) guesses from the sizes
        // of the weights and the block; where it blocks, whole rows are measured too, and at Full
        // the blocked default where it does not.
        const Tile t = register_tile(c.co, c.pooled_w() * c.pool_w);
        const int block = pooled_block(c, t), whole = c.pooled_w();
        Knobs alt;
        alt.cols = block < whole ? whole : pooled_columns(c, t, kPoolBlockBytes);
        if (alt.cols != block && (block < whole || q.level == TuneLevel::Full)) p.candidates.push_back(alt);
        add_winograd(c, p.candidates);
        return p;
    }
    TuneProblem p{{input_shape(c, n), weights_shape(c), {c.co}}, {output_shape(c, n)}, {}, tile_knobs(c.co, c.ow, false, q), conv_flops(c, n)};
    // Coarser parallel grains for the default tile (a depthwise or softmax convolution has its
    // own loop and ignores them).
    for (int g : q.level == TuneLevel::Full ? std::vector<int>{2, 4, 8} : std::vector<int>{4})
        if (g <= c.oh) p.candidates.push_back(Knobs{0, 0, 0, g, 0});
    add_weights_stationary(q, p.candidates);
    add_winograd(c, p.candidates);
    return p;
}
TuneProblem tune_conv_bwd_w(const KernelSpec& s, const TuneRequest& q) {
    const int n = q.batch;
    ConvCfg c = ConvCfg::from(s);
    const int K = c.in_per_group() * c.kw * c.kh;
    TuneProblem p{{input_shape(c, n), pooled_shape(c, n), pooled_shape(c, n)}, {{c.co, K}, {c.co}}, {0}, tile_knobs(c.co, dw_columns(c), true, q), conv_flops(c, n)};
    if (c.pool_w > 0) p.inputs.push_back(pooled_shape(c, n));
    // Fewer partial sums where dW is large: each chunk's (cats vs dogs' conv2d_4: 2.4 MB, in L3)
    // is zeroed, updated per image and summed, and 2 chunks rather than 4 took 6.3 against 7.6 ms
    // on 2 cores there; with more cores, 4 keep more of them busy. Measured, then, not assumed.
    const bool large = double(c.co) * dw_columns(c) * 4 >= (1 << 20);
    if (q.level == TuneLevel::Full || large) p.candidates.push_back(Knobs{0, 0, 0, 0, 2});
    if (q.level == TuneLevel::Full) p.candidates.push_back(Knobs{0, 0, 0, 0, 8});
    return p;
}
TuneProblem tune_conv_bwd_x(const KernelSpec& s, const TuneRequest& q) {
    const int n = q.batch;
    ConvCfg c = ConvCfg::from(s);
    TuneProblem p{{weights_shape(c), pooled_shape(c, n), pooled_shape(c, n)}, {input_shape(c, n)}, {0}, tile_knobs(c.ci, c.w, false, q), conv_flops(c, n)};
    // tile_knobs takes the builder's default for register_tile's; where dx_tile makes a row tile
    // the default instead, register_tile's is measured too (with its knobs, as another tile).
    // (Where the target's default has knobs of its own, AVX2's, that one is measured already.)
    const Tile plain = register_tile(c.ci, c.w);
    if (!p.candidates.empty() && p.candidates.front() == Knobs{} && !(dx_tile(c, Knobs{}) == plain)) {
        const Knobs k{plain.vec, plain.vecs, plain.other};
        if (std::find(p.candidates.begin(), p.candidates.end(), k) == p.candidates.end()) p.candidates.push_back(k);
    }
    if (!c.input_act.empty()) p.inputs.push_back(input_shape(c, n));
    if (c.pool_w > 0) p.inputs.push_back(pooled_shape(c, n));
    add_weights_stationary(q, p.candidates);
    add_winograd(c, p.candidates);
    return p;
}
TuneProblem tune_conv_t_fwd(const KernelSpec& s, const TuneRequest& q) {
    const int n = q.batch;
    ConvCfg c = ConvCfg::from(s);
    TuneProblem p{{output_shape(c, n), weights_shape(c), {c.ci}}, {input_shape(c, n)}, {}, tile_knobs(c.ci, c.w, false, q), conv_flops(c, n)};
    add_weights_stationary(q, p.candidates);
    return p;
}

}  // namespace cnnc::engine
