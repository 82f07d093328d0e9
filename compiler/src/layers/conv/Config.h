// The convolution kernels' static arguments: what the op (Op.cpp) knows about its layer and a
// builder (Kernels.cpp) needs to generate code. It converts to and from a KernelSpec, so a kernel
// can be named, cached on disk and rebuilt from its key. Part of the `kernel` layer
// (docs/ARCHITECTURE.md): no Halide, since the ops run in `cnnc build` executables.
#pragma once
#include <string>

#include "kernel/Kernel.h"

namespace cnnc::engine {

// Conv1D/Conv2D (1-D as height 1), grouped or not; DepthwiseConv2D is the grouped convolution with
// one group per input channel. Builders: conv_fwd, conv_bwd_w, conv_bwd_x, and conv_t_fwd, the
// forward of Conv2DTranspose: the input-gradient of this convolution plus bias and activation.
struct ConvCfg {
    int ci, w, h;    // input
    int co, ow, oh;  // output
    int kw, kh, sx, sy, dx, dy;
    int pl, pt;  // padding before (left, top)
    bool bias;
    std::string act;
    int groups = 1;  // input channel c feeds outputs of group c / (ci / groups) only
    // conv_bwd_x only: the activation whose derivative dL/dx is multiplied by, taken from the input
    // (which is that activation's output: rt::Op::output_activation); "" for none.
    std::string input_act;
    // The tiled max pooling applied to the activated output (rt::Op::set_output_pooling): windows
    // of pool_w x pool_h at that stride, no padding; 0 for none. Then conv_fwd writes the pooled
    // output and each window's first maximum, as a float 0 .. pool_w * pool_h - 1 in row-major
    // window order; conv_bwd_w and conv_bwd_x read the pooled y and dy and that argmax, and
    // scatter dL/dz to the full-size output as they go. (Inference writes the argmax too: one
    // kernel for both, where two would both be compiled, and tuned, by a run that trains and then
    // evaluates, since the kernels a file needs are listed before it runs.)
    int pool_w = 0, pool_h = 0;
    int pooled_w() const { return pool_w > 0 ? ow / pool_w : ow; }
    int pooled_h() const { return pool_h > 0 ? oh / pool_h : oh; }
    KernelSpec spec(const std::string& name) const {
        KernelSpec k = KernelSpec(name).set("ci", ci).set("w", w).set("h", h).set("co", co).set("ow", ow).set("oh", oh).set("kw", kw)
            .set("kh", kh).set("sx", sx).set("sy", sy).set("dx", dx).set("dy", dy).set("pl", pl).set("pt", pt).set("bias", bias)
            .set("act", act);
        if (groups != 1) k.set("groups", groups);  // ungrouped keys as before the argument existed
        if (!input_act.empty() && name == "conv_bwd_x") k.set("input_act", input_act);
        if (pool_w > 0) k.set("pool_w", pool_w).set("pool_h", pool_h);
        return k;
    }
    static ConvCfg from(const KernelSpec& s) {
        ConvCfg c{s.i("ci"), s.i("w"), s.i("h"), s.i("co"), s.i("ow"), s.i("oh"), s.i("kw"), s.i("kh"), s.i("sx"),
                  s.i("sy"), s.i("dx"), s.i("dy"), s.i("pl"), s.i("pt"), s.b("bias"), s.s("act"), s.i("groups", 1),
                  s.has("input_act") ? s.s("input_act") : ""};
        c.pool_w = s.i("pool_w", 0), c.pool_h = s.i("pool_h", 0);
        return c;
    }
    int in_per_group() const { return ci / groups; }
    int out_per_group() const { return co / groups; }
};

// The columns that conv_bwd_w's register tiles reduce: K = (C_in / groups) * kw * kh, or K + 1 when
// the bias gradient is computed as one more column (Kernels.cpp says when).
int dw_columns(const ConvCfg& c);

// The register tile (vec lanes x vecs vectors of input channels, by `other` columns) of
// conv_bwd_x: the knobs' where they name one, else the default, which may span the whole row.
struct Tile;
struct Knobs;
Tile dx_tile(const ConvCfg& c, const Knobs& kn);
// The s_order knob of conv_fwd and conv_bwd_x that asks for Winograd's F(2x2, 3x3)
// (KernelsWinograd.cpp), and where that fits: an ungrouped 3x3, stride-1, undilated convolution
// with 8 or more input channels, no pooling or a 2x2 one, no softmax. Elsewhere the knob is
// ignored.
constexpr int kWinogradOrder = 2;
bool winograd_fits(const ConvCfg& c);

}  // namespace cnnc::engine
