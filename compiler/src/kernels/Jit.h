// The in-memory backend: every kernel JIT-compiled by Halide when first asked for. The tests and
// benchmarks use it (no disk, no linker); `cnnc run` uses the on-disk cache (DiskKernels, Aot.h) unless
// told not to.
#pragma once
#include <Halide.h>

#include "kernel/Kernel.h"

namespace cnnc::engine {

// This CPU's target, minus AVX512_SapphireRapids. Halide 14 reports it on the Zen machines here,
// and then emits VEX-encoded AVX-VNNI (vpdpwssd) for integer index arithmetic, which these CPUs
// reject with SIGILL. Skylake/Cannonlake AVX-512 is all the float kernels need.
Halide::Target host_target();

class JitKernels : public KernelCache {
  public:
    explicit JitKernels(Halide::Target t = host_target()) : target_(t) {}
    const Halide::Target& target() const { return target_; }

  protected:
    std::shared_ptr<Kernel> make(const KernelSpec& spec, bool& compiled) override;

  private:
    Halide::Target target_;
};

}  // namespace cnnc::engine
