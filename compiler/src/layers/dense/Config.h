// The Dense kernels' static arguments: what the op (Op.cpp) knows about its layer and a
// builder (Kernels.cpp) needs to generate code. It converts to and from a KernelSpec, so a kernel
// can be named, cached on disk and rebuilt from its key. Part of the `kernel` layer
// (docs/ARCHITECTURE.md): no Halide, since the ops run in `cnnc build` executables.
#pragma once
#include <string>

#include "kernel/Kernel.h"

namespace cnnc::engine {

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

}  // namespace cnnc::engine
