#include "kernels/Jit.h"

#include "kernel/ParallelFor.h"
#include "kernels/KernelDef.h"
#include "kernels/Tuning.h"

namespace cnnc::engine {

Halide::Target host_target() { return Halide::get_host_target().without_feature(Halide::Target::AVX512_SapphireRapids); }

namespace {
class JitKernel : public Kernel {
  public:
    explicit JitKernel(KernelDef d) : def_(std::move(d)) {}

  protected:
    int invoke(const std::vector<Buf>& in, const std::vector<Buf>& out, const std::vector<int>& ints) override {
        for (size_t i = 0; i < def_.inputs.size(); ++i) def_.inputs[i].set(Halide::Buffer<float>(*in.at(i).raw_buffer()));
        for (size_t i = 0; i < def_.ints.size(); ++i) def_.ints[i].set(ints.at(i));
        // Halide::RuntimeError is thrown on failure.
        if (out.size() == 1) {
            Halide::Buffer<float> o(*out[0].raw_buffer());
            def_.pipeline.realize(o);
            return 0;
        }
        std::vector<Halide::Buffer<>> bufs;
        for (const Buf& b : out) bufs.emplace_back(Halide::Buffer<float>(*b.raw_buffer()));
        Halide::Realization r(bufs);
        def_.pipeline.realize(r);
        return 0;
    }

  private:
    KernelDef def_;
};
}  // namespace

std::shared_ptr<Kernel> JitKernels::make(const KernelSpec& spec, bool& compiled) {
    KernelDef d = build_kernel(fit_to_target(spec, target_));
    d.pipeline.set_custom_allocator(cached_malloc, cached_free);
    d.pipeline.set_custom_do_par_for(parallel_for);
    d.pipeline.compile_jit(target_);  // now, so the time is counted here and not in the first step
    compiled = true;
    return std::make_shared<JitKernel>(std::move(d));
}

}  // namespace cnnc::engine
