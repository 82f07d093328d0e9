// The normalization kernels' static arguments: what the ops (Op.cpp) know about
// BatchNormalization and LayerNormalization and the builders (Kernels.cpp) need to generate code,
// to and from a KernelSpec. Part of the `kernel` layer (docs/ARCHITECTURE.md): no Halide, since
// the ops run in `cnnc build` executables.
#pragma once
#include <string>

#include "kernel/Kernel.h"

namespace cnnc::engine {

// A tensor seen as rows of `c` × `inner` values: `c` is the normalized axis' length, `inner` the
// product of the axes after it (1 for the usual axis = -1), every axis before it (the batch
// included) makes the rows. Builders:
//   BatchNormalization, statistics per channel over every row and inner position:
//     bn_stats (x → mean, variance), bn_apply (x, gamma, beta, mean, variance → y),
//     bn_sums (x, dy, mean, variance → Σdy, Σdy·x̂), bn_bwd_x (x, dy, gamma, mean, variance, Σdy, Σdy·x̂ → dx);
//   LayerNormalization, statistics per row and inner position over the c values:
//     ln_fwd (x, gamma, beta → y), ln_bwd (x, dy, gamma → dx, dgamma, dbeta).
struct NormCfg {
    int c, inner;
    float eps;
    KernelSpec spec(const std::string& name) const { return KernelSpec(name).set("c", c).set("inner", inner).set("eps", eps); }
    static NormCfg from(const KernelSpec& s) { return {s.i("c"), s.i("inner"), s.f("eps")}; }
};

}  // namespace cnnc::engine
