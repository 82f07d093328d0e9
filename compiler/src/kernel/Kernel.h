// Kernels as the runtime's ops see them: a compiled Halide pipeline named by a KernelSpec, run on
// the runtime's tensors without copies. Nothing here needs libHalide: where a kernel's code comes
// from (JIT-compiled, loaded from the on-disk cache, or linked into a `cnnc build` executable) is
// a KernelCache backend's business (compiler/src/kernels/ for the ones that compile, LinkedKernels
// in app/ExeMain.cpp for the executable's table, RecordingKernels in engine/KernelList.h to list them).
#pragma once
#include <HalideBuffer.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/Tensor.h"

namespace cnnc::engine {

// A tensor as a kernel reads it: dimensions innermost-first, dense strides, memory not owned.
using Buf = Halide::Runtime::Buffer<float>;

// The runtime's batch-first (N, H, W, C) view as (C, W, H, N): the same memory, no copy.
Buf to_halide(const rt::View& v);
Buf to_halide(const rt::View& v, const rt::Dims& keras_shape);  // reinterpreted

// Everything a kernel's code depends on: a builder's name and its static arguments (per-sample
// shapes, activation, ...). Identical layers — VGG's repeated convolutions — give equal specs and
// share one kernel. Its text form, "dense_fwd(in=784,units=10,bias=1,act=softmax)", is the key of
// every cache and parses back (KernelSpec::parse), so a kernel can be rebuilt from its key alone.
class KernelSpec {
  public:
    KernelSpec() = default;
    explicit KernelSpec(std::string name) : name_(std::move(name)) {}
    KernelSpec& set(const std::string& k, int64_t v);
    KernelSpec& set(const std::string& k, int v) { return set(k, static_cast<int64_t>(v)); }
    KernelSpec& set(const std::string& k, bool v) { return set(k, static_cast<int64_t>(v ? 1 : 0)); }
    KernelSpec& set(const std::string& k, float v);
    KernelSpec& set(const std::string& k, const std::vector<float>& v);
    KernelSpec& set(const std::string& k, const std::string& v);
    KernelSpec& set(const std::string& k, const char* v) { return set(k, std::string(v)); }

    const std::string& name() const { return name_; }
    int i(const std::string& k) const;
    // An argument that a spec leaves out at its usual value, so adding it changed no existing key.
    int i(const std::string& k, int absent) const;
    bool b(const std::string& k) const { return i(k) != 0; }
    float f(const std::string& k) const;
    std::vector<float> floats(const std::string& k) const;
    const std::string& s(const std::string& k) const;

    std::string key() const;
    bool has(const std::string& k) const;
    static KernelSpec parse(const std::string& key);  // throws std::runtime_error on a malformed key

  private:
    std::string name_;
    std::vector<std::pair<std::string, std::string>> args_;  // in the order set
};

// One compiled kernel. Arguments go in the builder's order: input buffers, int params, outputs.
class Kernel {
  public:
    virtual ~Kernel() = default;
    void run(const std::vector<Buf>& in, const std::vector<Buf>& out, const std::vector<int>& ints = {});

    std::string key;
    double seconds = 0;  // time spent in run(), when CNNC_PROFILE is set
    int64_t calls = 0;
    double fastest = 1e30;  // the quickest call: robust to a noisy shared machine

  protected:
    // Returns Halide's error code (0: success).
    virtual int invoke(const std::vector<Buf>& in, const std::vector<Buf>& out, const std::vector<int>& ints) = 0;
};

// A kernel compiled ahead of time: Halide's `<name>_argv(void**)` entry point, which takes
// pointers to each argument (halide_buffer_t* for buffers, int32_t* for ints) in order.
using ArgvFn = int (*)(void**);
class NativeKernel : public Kernel {
  public:
    explicit NativeKernel(ArgvFn fn) : fn_(fn) {}

  protected:
    int invoke(const std::vector<Buf>& in, const std::vector<Buf>& out, const std::vector<int>& ints) override;

  private:
    ArgvFn fn_;
};

// The kernels of a run, by spec: each made once (by the backend) and shared by every op asking.
class KernelCache {
  public:
    virtual ~KernelCache();  // prints the per-kernel profile when CNNC_PROFILE is set
    std::shared_ptr<Kernel> get(const KernelSpec& spec);
    double compile_seconds() const { return seconds_; }
    int compiled() const { return compiled_; }   // made by compiling now
    int size() const { return static_cast<int>(cache_.size()); }
    // A line for the user: "9 kernels compiled in 3.1 s, 4 from the cache".
    std::string describe() const;
    // Compiles `specs` ahead of their first get(), where the backend can do it faster all at once
    // (in parallel); by default nothing.
    virtual void prefetch(const std::vector<KernelSpec>& specs) { (void)specs; }
    // The schedule each kernel is compiled with: get(spec) makes `schedules[spec.key()]` (the same
    // spec plus schedule arguments, kernels/Schedule.h: Knobs) where there is one, the builder's
    // default schedule otherwise. The kernel keeps the op's key. Set before the first get().
    void use_schedules(std::map<std::string, KernelSpec> schedules) { schedules_ = std::move(schedules); }
    const std::map<std::string, KernelSpec>& schedules() const { return schedules_; }

  protected:
    // Time spent compiling outside get() (a backend compiling ahead, in parallel).
    void add_compile_seconds(double s) { seconds_ += s; }
    // How describe() names kernels that were not compiled now.
    virtual const char* reused_from() const { return "from the cache"; }
    // Makes the kernel; sets `compiled` when it had to compile it (rather than load it).
    virtual std::shared_ptr<Kernel> make(const KernelSpec& spec, bool& compiled) = 0;

  private:
    std::map<std::string, std::shared_ptr<Kernel>> cache_;
    std::map<std::string, KernelSpec> schedules_;
    double seconds_ = 0;
    int compiled_ = 0, reused_ = 0;
};

// Halide allocates every root-computed intermediate on every call, and large blocks go through
// mmap/munmap and page faults (a 6 ms training step measured at 26-46 ms that way). Every backend
// installs these, which keep freed blocks by size and hand them back on the next call.
void* cached_malloc(void* user_context, size_t size);
void cached_free(void* user_context, void* ptr);

}  // namespace cnnc::engine
