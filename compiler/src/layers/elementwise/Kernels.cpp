// Kernels that map values one by one: activations (forward and backward), dropout's mask, and
// the per-channel affine map behind Rescaling and preprocess_input.
#include "kernels/Activation.h"
#include "kernels/KernelDef.h"
#include "kernels/Schedule.h"

namespace cnnc::engine {
using namespace Halide;

namespace {

// An elementwise kernel over the tensor flattened to (channels, rest): `f(in, c, i)` gives the
// output; `inputs` are the ImageParams it reads (all of the same shape) and `ints` its int params.
KernelDef elementwise(int channels, int n_inputs, int n_ints,
                   const std::function<Expr(const std::vector<ImageParam>&, const std::vector<Param<int>>&, Var, Var)>& f) {
    KernelDef k;
    for (int i = 0; i < n_inputs; ++i) {
        k.inputs.emplace_back(Float(32), 2, "in" + std::to_string(i));
        dense_layout(k.inputs.back(), {channels, 0});
    }
    for (int i = 0; i < n_ints; ++i) k.ints.emplace_back("p" + std::to_string(i));
    Var c("c"), i("i");
    Func out("out");
    out(c, i) = f(k.inputs, k.ints, c, i);
    Var io("io"), ii("ii");
    out.output_buffer().dim(0).set_bounds(0, channels);
    if (sched::vector_width(channels) == 16) {
        out.vectorize(c, 16).split(i, io, ii, 256, TailStrategy::GuardWithIf).parallel(io);
    } else {
        // Few channels (Rescaling of an image has 1, RGB 3): vectorise along the rows instead,
        // channels unrolled, so a 180x180x3 batch is not 48,000 tasks of scalar code.
        out.bound(c, 0, channels).unroll(c).reorder(c, i).split(i, io, ii, 4096, TailStrategy::GuardWithIf).parallel(io).vectorize(ii, 16, TailStrategy::GuardWithIf);
    }
    k.pipeline = Pipeline(out);
    return k;
}

// A stateless hash of (seed, step, index) to [0, 1): the same mask in forward and backward
// without storing it, and a different one every step.
Expr uniform_hash(Expr seed, Expr step, Expr index) {
    Expr h = cast<uint32_t>(index) * Internal::make_const(UInt(32), (uint64_t)0x9E3779B1ull) + cast<uint32_t>(seed) * Internal::make_const(UInt(32), (uint64_t)0x85EBCA77ull) +
             cast<uint32_t>(step) * Internal::make_const(UInt(32), (uint64_t)0xC2B2AE3Dull);
    h = h ^ (h >> 16);
    h = h * Internal::make_const(UInt(32), (uint64_t)0x7FEB352Dull);
    h = h ^ (h >> 15);
    h = h * Internal::make_const(UInt(32), (uint64_t)0x846CA68Bull);
    h = h ^ (h >> 16);
    return cast<float>(h >> 8) * (1.0f / 16777216.0f);
}

}  // namespace

// act_fwd(act, c): y = act(x) over rows of c channels.
KernelDef build_act_fwd(const KernelSpec& s) {
    const std::string act = s.s("act");
    const int ch = s.i("c");
    KernelDef k;
    ImageParam in(Float(32), 2, "in");
    dense_layout(in, {ch, 0});
    Var c("c"), i("i");
    Func z("z");
    z(c, i) = in(c, i);
    Func y = activation_forward(act, z, 2, ch);
    y.compute_root();
    k.pipeline = Pipeline(y);
    k.inputs = {in};
    return k;
}

// act_bwd(act, c): dL/dx from v and dL/dy (int param: dy is already dL/dz); v is y, or x where
// activation_traits(act).needs_input.
KernelDef build_act_bwd(const KernelSpec& s) {
    const std::string act = s.s("act");
    const int ch = s.i("c");
    KernelDef k;
    ImageParam v(Float(32), 2, "v"), dy(Float(32), 2, "dy");
    Param<int> logits("logits");
    dense_layout(v, {ch, 0});
    dense_layout(dy, {ch, 0});
    Var c("c"), i("i");
    Func fv("fv"), fdy("fdy");
    fv(c, i) = v(c, i);
    fdy(c, i) = dy(c, i);
    Func dz = activation_backward(act, fv, fdy, 2, ch, logits != 0);
    dz.compute_root();
    k.pipeline = Pipeline(dz);
    k.inputs = {v, dy};
    k.ints = {logits};
    return k;
}

// dropout(rate, c[, positions]): out = select(keep, x / (1 - rate), 0), the mask a hash of (seed,
// step, index) (int params): the same kernel serves forward (x) and backward (dy). With
// `positions` (SpatialDropout2D: height * width), one draw per image and channel: the index is
// the image's, so all of a channel's positions share it.
KernelDef build_dropout(const KernelSpec& s) {
    const float rate = s.f("rate"), keep_scale = 1.f / (1.f - rate);
    const int ch = s.i("c"), positions = s.i("positions", 1);
    return elementwise(ch, 1, 2, [=](const std::vector<ImageParam>& in, const std::vector<Param<int>>& p, Var c, Var i) {
        Expr u = uniform_hash(p[0], p[1], (positions == 1 ? Expr(i) : i / positions) * ch + c);
        return select(u >= rate, in[0](c, i) * keep_scale, 0.f);
    });
}

// affine(scale, offset, reverse, backward): y = x * scale[c] + offset[c], channels optionally
// reversed (RGB -> BGR); backward: dx = dy * scale, channels reversed back.
KernelDef build_affine(const KernelSpec& s) {
    const std::vector<float> scale = s.floats("scale"), offset = s.floats("offset");
    const bool reverse = s.b("reverse"), backward = s.b("backward");
    const int ch = static_cast<int>(scale.size());
    return elementwise(ch, 1, 0, [=](const std::vector<ImageParam>& in, const std::vector<Param<int>>&, Var c, Var i) {
        // Per-channel constants as a select chain (no buffer to pass).
        Expr sc = scale[0], o = offset[0];
        for (int k = 1; k < ch; ++k) {
            sc = select(c == k, scale[static_cast<size_t>(k)], sc);
            o = select(c == k, offset[static_cast<size_t>(k)], o);
        }
        Expr src = reverse ? in[0](ch - 1 - c, i) : in[0](c, i);
        if (!backward) return src * sc + o;
        // dx[c'] = dy[c] * scale[c] with c' the source channel of c.
        Expr sb = scale[0];
        for (int k = 1; k < ch; ++k) sb = select((reverse ? ch - 1 - c : c) == k, scale[static_cast<size_t>(k)], sb);
        return src * sb;
    });
}

}  // namespace cnnc::engine
