// The static arguments of each kernel family: what an op (compiler/src/lower/) knows about its
// layer and a builder (compiler/src/kernels/) needs to generate code. Each converts to and from a
// KernelSpec, so a kernel can be named, cached on disk and rebuilt from its key. No Halide here:
// the ops that use these run in `cnnc build` executables, which have no libHalide.
#pragma once
#include <string>

#include "ir/Activation.h"
#include "kernel/Kernel.h"

namespace cnnc::engine {

// Activations whose derivative needs their input, not their output (kNeedsInput in
// ir/ActivationList.def): a layer does not fuse them; they run as an Activation stage of their own.
inline bool activation_needs_input(const std::string& a) { return activation_traits(a).needs_input; }

// Conv1D/Conv2D (1-D as height 1). Builders: conv_fwd, conv_bwd_w, conv_bwd_x.
struct ConvCfg {
    int ci, w, h;    // input
    int co, ow, oh;  // output
    int kw, kh, sx, sy, dx, dy;
    int pl, pt;  // padding before (left, top)
    bool bias;
    std::string act;
    KernelSpec spec(const std::string& name) const {
        return KernelSpec(name).set("ci", ci).set("w", w).set("h", h).set("co", co).set("ow", ow).set("oh", oh).set("kw", kw)
            .set("kh", kh).set("sx", sx).set("sy", sy).set("dx", dx).set("dy", dy).set("pl", pl).set("pt", pt).set("bias", bias)
            .set("act", act);
    }
    static ConvCfg from(const KernelSpec& s) {
        return {s.i("ci"), s.i("w"), s.i("h"), s.i("co"), s.i("ow"), s.i("oh"), s.i("kw"), s.i("kh"), s.i("sx"),
                s.i("sy"), s.i("dx"), s.i("dy"), s.i("pl"), s.i("pt"), s.b("bias"), s.s("act")};
    }
};

// Dense over rows (the batch, or every position of a rank > 2 input). Builders: dense_fwd,
// dense_bwd_w, dense_bwd_x.
struct DenseCfg {
    int in, units;
    bool bias;
    std::string act;
    KernelSpec spec(const std::string& name) const {
        return KernelSpec(name).set("in", in).set("units", units).set("bias", bias).set("act", act);
    }
    static DenseCfg from(const KernelSpec& s) { return {s.i("in"), s.i("units"), s.b("bias"), s.s("act")}; }
};

// Max/average pooling (1-D as height 1). Builders: pool_fwd, pool_bwd.
struct PoolCfg {
    bool max;
    int c, w, h, ow, oh, pw, ph, sx, sy, pl, pt;
    KernelSpec spec(const std::string& name) const {
        return KernelSpec(name).set("max", max).set("c", c).set("w", w).set("h", h).set("ow", ow).set("oh", oh).set("pw", pw)
            .set("ph", ph).set("sx", sx).set("sy", sy).set("pl", pl).set("pt", pt);
    }
    static PoolCfg from(const KernelSpec& s) {
        return {s.b("max"), s.i("c"), s.i("w"), s.i("h"), s.i("ow"), s.i("oh"), s.i("pw"), s.i("ph"), s.i("sx"), s.i("sy"),
                s.i("pl"), s.i("pt")};
    }
};

// Global pooling: every position (H*W, or steps) of a channel reduced to one value. Builders:
// global_fwd, global_bwd.
struct GlobalCfg {
    bool max;
    int c, positions;
    KernelSpec spec(const std::string& name) const { return KernelSpec(name).set("max", max).set("c", c).set("positions", positions); }
    static GlobalCfg from(const KernelSpec& s) { return {s.b("max"), s.i("c"), s.i("positions")}; }
};

}  // namespace cnnc::engine
