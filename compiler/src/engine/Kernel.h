// A JIT-compiled Halide pipeline and the inputs it reads, run on the runtime's tensors without
// copies. Kernels are cached by a key that spells out everything the code depends on (layer kind,
// static arguments, per-sample shapes), so identical layers — VGG's repeated convolutions, say —
// share one compiled pipeline. Only the batch size varies between calls.
#pragma once
#include <Halide.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tensor/Tensor.h"

namespace cnnc::engine {

// The runtime's batch-first (N, H, W, C) view as a Halide buffer with dimensions innermost-first
// (C, W, H, N): the same memory, no copy.
Halide::Buffer<float> to_halide(const rt::View& v);
Halide::Buffer<float> to_halide(const rt::View& v, const rt::Dims& keras_shape);  // reinterpreted

// The JIT target: this CPU's, minus AVX512_SapphireRapids. Halide 14 reports it on the Zen 5
// machines here, and then emits VEX-encoded AVX-VNNI (vpdpwssd) for integer index arithmetic,
// which these CPUs reject with SIGILL. Skylake/Cannonlake AVX-512 is all the float kernels need.
Halide::Target host_target();

class Kernel {
  public:
    Halide::Pipeline pipeline;
    std::vector<Halide::ImageParam> inputs;
    std::vector<Halide::Param<int>> ints;
    std::string key;  // set by the cache
    double seconds = 0;  // time spent in run(), when CNNC_PROFILE is set
    int64_t calls = 0;
    double fastest = 1e30;  // the quickest call: robust to a noisy shared machine

    // Binds `in` to `inputs` in order, sets the int params, realizes into `out`.
    void run(const std::vector<Halide::Buffer<float>>& in, const std::vector<Halide::Buffer<float>>& out,
             const std::vector<int>& int_args = {});
};

class KernelCache {
  public:
    explicit KernelCache(Halide::Target t) : target_(t) {}
    ~KernelCache();  // prints the per-kernel profile when CNNC_PROFILE is set
    // The kernel for `key`, built and JIT-compiled by `build` the first time it is asked for.
    std::shared_ptr<Kernel> get(const std::string& key, const std::function<Kernel()>& build);
    const Halide::Target& target() const { return target_; }
    double compile_seconds() const { return seconds_; }
    int compiled() const { return static_cast<int>(cache_.size()); }

  private:
    Halide::Target target_;
    std::map<std::string, std::shared_ptr<Kernel>> cache_;
    double seconds_ = 0;
};

// Scheduling helpers shared by the lowerings.
namespace sched {
// The widest vector (16, 8, 4 or 1 floats) that divides `channels`.
int vector_width(int64_t channels);
}  // namespace sched

}  // namespace cnnc::engine
