// Ahead-of-time kernels: each KernelSpec compiled by Halide to an object file for a target, kept in
// an on-disk cache, and either linked into a shared object that `cnnc run` loads (DiskKernels: the
// second run of a file starts without compiling) or into a `cnnc build` executable (driver/Executable.h).
//
// A cached file is named by a hash of everything its code depends on: the spec's key, the target,
// and this compiler's identity (its version, Halide's version and the build ID of the cnnc binary,
// which changes with any change to the builders). A changed model asks for other specs; a changed
// compiler computes other names; neither can meet a stale kernel.
//
// Every file is written under a temporary name `<file>.tmp<pid>` and renamed into place, so an
// interrupted or concurrent run never sees half a file; its SHA-256 is recorded first beside it,
// in sha256sum's format (`<file>.sha256`), and checked before the file is linked or loaded, so a
// file damaged afterwards (truncated, bit-flipped) is found, reported and compiled again instead of
// crashing the run. Halide's LLVM back end aborts the process when it cannot write (a full disk),
// so it runs in a child process; temporaries of processes that died are removed when a cache opens.
#pragma once
#include <Halide.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "Error.h"
#include "kernel/Kernel.h"

namespace cnnc::engine {

// A cache file that cannot be written (the message names it and why). The run goes on without it.
struct CacheError : rt::UserError {
    using rt::UserError::UserError;
};
// The cache's disk is full: nothing more is written to it by this process.
struct CacheFull : CacheError {
    using CacheError::CacheError;
};

// What produced the cached code: "cnnc <version> halide <x.y.z> build <build-id>".
std::string compiler_identity();

// One compiled flavour of every kernel in an executable, chosen at startup by the CPU's features.
struct Variant {
    std::string name;  // "host", "avx2", "sse41"
    Halide::Target target;
};
// `spec` is "host" (this CPU only), "portable" (this CPU's features, then AVX2+FMA, then SSE4.1:
// runs on any x86-64 CPU of the last 15 years) or a comma-separated list of Halide target strings.
std::vector<Variant> variants_for(const std::string& spec);

class ObjectCache {
  public:
    // $CNNC_CACHE_DIR, else $XDG_CACHE_HOME/cnnc, else ~/.cache/cnnc.
    static std::string default_dir();
    // Below this much free space no file is written (a kernel's object and shared object take
    // 20-30 KB each, Halide's runtime 150 KB), so a full disk costs no compile that cannot be kept.
    static constexpr uint64_t kMinFree = 64 * 1024;
    // Creates the directory (CacheError if it cannot) and removes the temporaries that processes
    // killed while writing left behind.
    explicit ObjectCache(std::string dir = default_dir());
    const std::string& dir() const { return dir_; }

    // The file name stem and function name of `spec` compiled for `t`: "k0123456789abcdef".
    std::string name(const KernelSpec& spec, const Halide::Target& t) const;
    // Whether an intact object (or shared object) of `spec` for `t` is in the cache. A damaged one
    // is reported, removed, and counts as missing.
    bool has_object(const KernelSpec& spec, const Halide::Target& t);
    bool has_shared(const KernelSpec& spec, const Halide::Target& t);
    // The object file of `spec` for `t` (its function is name(spec, t)), compiled now unless cached.
    // `compiled` says which. Throws CacheError when it cannot be written.
    std::string object(const KernelSpec& spec, const Halide::Target& t, bool& compiled);
    // The same linked into a shared object (undefined Halide runtime symbols: runtime_shared's);
    // `compiled` says whether the object had to be compiled.
    std::string shared(const KernelSpec& spec, const Halide::Target& t, bool& compiled);
    // Compiles the missing objects of `jobs` with one worker process per core (Halide's compiler is
    // single-threaded). Call it before anything has started a thread: it forks. A worker's failure
    // is not reported here; object() then compiles what is missing and reports the error (at once,
    // as CacheFull, when the workers filled the disk).
    void compile_all(const std::vector<std::pair<KernelSpec, Halide::Target>>& jobs);
    // Halide's runtime (allocation, thread pool, errors, CPU feature checks) for `t`.
    std::string runtime_object(const Halide::Target& t);
    std::string runtime_shared(const Halide::Target& t);
    // Drops a cached file that did not load, with its checksum.
    void forget(const std::string& path);

  private:
    // Whether `path` holds what was written there: its SHA-256 matches its record.
    bool intact(const std::string& path);
    // Writes `path` through `make(temporary path)`, its checksum, then the rename.
    void write(const std::string& path, const std::function<void(const std::string&)>& make);
    // Whether less than kMinFree is left, or a write ran out of space: then nothing more is written.
    bool out_of_space();
    std::string dir_;
    bool full_ = false;
};

// Runs a program (argv[0] looked up in PATH); on failure throws std::runtime_error with its output.
void run_tool(const std::vector<std::string>& argv);

// `cnnc run`'s backend: kernels loaded from the cache's shared objects, compiled into it first when
// missing. Where the cache cannot work it says so and JIT-compiles in memory instead: slower to
// start, never a failed run. A kernel that cannot be cached (a directory in its place, a link that
// fails) is compiled in memory alone; a full disk stops writing, and the kernels already cached are
// still loaded; only without a directory or Halide's runtime is every kernel compiled in memory.
class DiskKernels : public KernelCache {
  public:
    explicit DiskKernels(std::string dir = ObjectCache::default_dir(), Halide::Target t = Halide::Target());
    ~DiskKernels() override;
    // Compiles the missing ones of `specs` into the cache in parallel (see compile_all), so the
    // kernels asked for one by one afterwards load at once.
    void prefetch(const std::vector<KernelSpec>& specs) override;

  protected:
    std::shared_ptr<Kernel> make(const KernelSpec& spec, bool& compiled) override;

  private:
    // False (having said why) when Halide's runtime cannot be loaded: then no kernel can be.
    bool load_runtime();
    std::shared_ptr<Kernel> load(const KernelSpec& spec, bool& compiled);
    std::unique_ptr<ObjectCache> cache_;  // null once the cache has failed
    bool told_full_ = false;
    std::unique_ptr<KernelCache> fallback_;
    Halide::Target target_;
    void* runtime_ = nullptr;
    std::vector<void*> handles_;
    std::set<std::string> prefetched_;  // keys prefetch() compiled: make() reports them as compiled
};

}  // namespace cnnc::engine
