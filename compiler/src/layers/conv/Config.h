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
    KernelSpec spec(const std::string& name) const {
        KernelSpec k = KernelSpec(name).set("ci", ci).set("w", w).set("h", h).set("co", co).set("ow", ow).set("oh", oh).set("kw", kw)
            .set("kh", kh).set("sx", sx).set("sy", sy).set("dx", dx).set("dy", dy).set("pl", pl).set("pt", pt).set("bias", bias)
            .set("act", act);
        if (groups != 1) k.set("groups", groups);  // ungrouped keys as before the argument existed
        if (!input_act.empty() && name == "conv_bwd_x") k.set("input_act", input_act);
        return k;
    }
    static ConvCfg from(const KernelSpec& s) {
        return {s.i("ci"), s.i("w"), s.i("h"), s.i("co"), s.i("ow"), s.i("oh"), s.i("kw"), s.i("kh"), s.i("sx"),
                s.i("sy"), s.i("dx"), s.i("dy"), s.i("pl"), s.i("pt"), s.b("bias"), s.s("act"), s.i("groups", 1),
                s.has("input_act") ? s.s("input_act") : ""};
    }
    int in_per_group() const { return ci / groups; }
    int out_per_group() const { return co / groups; }
};

// The columns that conv_bwd_w's register tiles reduce: K = (C_in / groups) * kw * kh, or K + 1 when
// the bias gradient is computed as one more column (Kernels.cpp says when).
int dw_columns(const ConvCfg& c);

}  // namespace cnnc::engine
