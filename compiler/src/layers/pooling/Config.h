// The pooling kernels' static arguments: what the op (Op.cpp) knows about its layer and a
// builder (Kernels.cpp) needs to generate code. It converts to and from a KernelSpec, so a kernel
// can be named, cached on disk and rebuilt from its key. Part of the `kernel` layer
// (docs/ARCHITECTURE.md): no Halide, since the ops run in `cnnc build` executables.
#pragma once
#include "kernel/Kernel.h"

namespace cnnc::engine {

// Max/average pooling (1-D as height 1). Builders: pool_fwd, pool_bwd. `input_act`: the activation
// whose derivative pool_bwd applies to dL/dx, taken from the input it reads (rt::Op::
// output_activation; "" for none; only in the backward's key).
struct PoolCfg {
    bool max;
    int c, w, h, ow, oh, pw, ph, sx, sy, pl, pt;
    std::string input_act;
    KernelSpec spec(const std::string& name) const {
        KernelSpec s = KernelSpec(name).set("max", max).set("c", c).set("w", w).set("h", h).set("ow", ow).set("oh", oh).set("pw", pw)
            .set("ph", ph).set("sx", sx).set("sy", sy).set("pl", pl).set("pt", pt);
        if (!input_act.empty() && name == "pool_bwd") s.set("input_act", input_act);
        return s;
    }
    static PoolCfg from(const KernelSpec& s) {
        return {s.b("max"), s.i("c"), s.i("w"), s.i("h"), s.i("ow"), s.i("oh"), s.i("pw"), s.i("ph"), s.i("sx"), s.i("sy"),
                s.i("pl"), s.i("pt"), s.has("input_act") ? s.s("input_act") : ""};
    }
};

// Global pooling: every position (H*W, or steps) of a channel reduced to one value. Builders:
// global_fwd, global_bwd. `input_act` as PoolCfg's.
struct GlobalCfg {
    bool max;
    int c, positions;
    std::string input_act;
    KernelSpec spec(const std::string& name) const {
        KernelSpec s = KernelSpec(name).set("max", max).set("c", c).set("positions", positions);
        if (!input_act.empty() && name == "global_bwd") s.set("input_act", input_act);
        return s;
    }
    static GlobalCfg from(const KernelSpec& s) { return {s.b("max"), s.i("c"), s.i("positions"), s.has("input_act") ? s.s("input_act") : ""}; }
};

}  // namespace cnnc::engine
