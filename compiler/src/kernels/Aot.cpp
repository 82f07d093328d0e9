#include "kernels/Aot.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <link.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "kernels/Jit.h"
#include "kernels/KernelDef.h"

#ifndef CNNC_VERSION
#define CNNC_VERSION "dev"
#endif

namespace fs = std::filesystem;

namespace cnnc::engine {

// ---- identity ----

namespace {
// The GNU build ID of a loaded object: the linker's hash of its code, different for every build.
std::string build_id(const dl_phdr_info* info) {
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_NOTE) continue;
        auto* p = reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr);
        const unsigned char* end = p + ph.p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            auto* n = reinterpret_cast<const ElfW(Nhdr)*>(p);
            const unsigned char* name = p + sizeof(ElfW(Nhdr));
            const unsigned char* desc = name + ((n->n_namesz + 3) & ~3u);
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && std::string(reinterpret_cast<const char*>(name), 3) == "GNU") {
                std::string id;
                for (unsigned k = 0; k < n->n_descsz; ++k) id += fmt::format("{:02x}", desc[k]);
                return id;
            }
            p = desc + ((n->n_descsz + 3) & ~3u);
        }
    }
    return "";
}

uint64_t fnv1a(const std::string& s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}
}  // namespace

std::string compiler_identity() {
    static const std::string id = [] {
        struct Ids {
            std::string self, halide;
        } ids;
        dl_iterate_phdr(
            [](dl_phdr_info* info, size_t, void* data) {
                auto* ids = static_cast<Ids*>(data);
                std::string name = info->dlpi_name ? info->dlpi_name : "";
                if (name.empty() && ids->self.empty()) ids->self = build_id(info);  // the executable
                if (name.find("libHalide") != std::string::npos) ids->halide = build_id(info);
                return 0;
            },
            &ids);
        return fmt::format("cnnc {} halide {} build {}", CNNC_VERSION, ids.halide.empty() ? "?" : ids.halide,
                           ids.self.empty() ? "?" : ids.self);
    }();
    return id;
}

// ---- targets ----

std::vector<Variant> variants_for(const std::string& spec) {
    std::vector<Variant> out;
    auto add = [&](const std::string& name, const Halide::Target& t) {
        for (const auto& v : out)
            if (v.target == t) return;
        out.push_back({name, t});
    };
    if (spec == "host") {
        add("host", host_target());
    } else if (spec == "portable") {
        add("host", host_target());
        add("avx2", Halide::Target("x86-64-linux-avx-avx2-f16c-fma-sse41"));
        add("sse41", Halide::Target("x86-64-linux-sse41"));
    } else {
        std::stringstream ss(spec);
        std::string t;
        while (std::getline(ss, t, ',')) {
            if (!Halide::Target::validate_target_string(t))
                throw std::invalid_argument("'" + t + "' is not a Halide target (e.g. x86-64-linux-avx2-fma), nor host or portable");
            add(t, Halide::Target(t));
        }
    }
    return out;
}

// ---- tools ----

void run_tool(const std::vector<std::string>& argv) {
    char log[] = "/tmp/cnnc-tool-XXXXXX";
    int fd = mkstemp(log);
    if (fd < 0) throw std::runtime_error("cannot create a temporary file");
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        std::fprintf(stderr, "cannot run %s\n", args[0]);
        _exit(127);
    }
    close(fd);
    int status = 0;
    waitpid(pid, &status, 0);
    std::ifstream in(log);
    std::stringstream out;
    out << in.rdbuf();
    unlink(log);
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string cmd;
        for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
        std::string text = out.str();
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
        throw std::runtime_error(fmt::format("`{}` failed: {}", cmd, text));
    }
}

// ---- the cache ----

std::string ObjectCache::default_dir() {
    if (const char* d = std::getenv("CNNC_CACHE_DIR"); d && *d) return d;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return (fs::path(x) / "cnnc").string();
    if (const char* h = std::getenv("HOME"); h && *h) return (fs::path(h) / ".cache" / "cnnc").string();
    return (fs::temp_directory_path() / "cnnc-cache").string();
}

ObjectCache::ObjectCache(std::string dir) : dir_(std::move(dir)) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (!fs::is_directory(dir_, ec)) throw std::runtime_error("cannot create the kernel cache directory " + dir_);
}

std::string ObjectCache::name(const KernelSpec& spec, const Halide::Target& t) const {
    return fmt::format("k{:016x}", fnv1a(compiler_identity() + "|" + t.to_string() + "|" + spec.key()));
}

namespace {
// Writes through a temporary name in the same directory, then renames: readers see all or nothing.
template <class F>
void write_atomically(const std::string& path, F&& write) {
    std::string tmp = fmt::format("{}.tmp{}", path, getpid());
    try {
        write(tmp);
    } catch (...) {
        std::error_code ec;
        fs::remove(tmp, ec);
        throw;
    }
    fs::rename(tmp, path);
}

bool cached(const std::string& path) {
    std::error_code ec;
    return fs::is_regular_file(path, ec) && fs::file_size(path, ec) > 0;
}
}  // namespace

bool ObjectCache::has_object(const KernelSpec& spec, const Halide::Target& t) const {
    return cached((fs::path(dir_) / (name(spec, t) + ".o")).string());
}

std::string ObjectCache::object(const KernelSpec& spec, const Halide::Target& t, bool& compiled) {
    std::string fn = name(spec, t), path = (fs::path(dir_) / (fn + ".o")).string();
    compiled = false;
    if (cached(path)) return path;
    KernelDef d = build_kernel(spec);
    write_atomically(path, [&](const std::string& tmp) {
        d.pipeline.compile_to_object(tmp, d.arguments(), fn, t.with_feature(Halide::Target::NoRuntime));
    });
    compiled = true;
    return path;
}

void ObjectCache::compile_all(const std::vector<std::pair<KernelSpec, Halide::Target>>& jobs) {
    std::vector<size_t> missing;
    for (size_t j = 0; j < jobs.size(); ++j)
        if (!has_object(jobs[j].first, jobs[j].second)) missing.push_back(j);
    const size_t workers = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), missing.size());
    if (workers < 2) return;
    std::fflush(stdout);
    std::fflush(stderr);
    std::vector<pid_t> pids;
    for (size_t w = 0; w < workers; ++w) {
        pid_t pid = fork();
        if (pid == 0) {
            int rc = 0;
            for (size_t k = w; k < missing.size(); k += workers) {
                try {
                    bool fresh = false;
                    object(jobs[missing[k]].first, jobs[missing[k]].second, fresh);
                } catch (...) {
                    rc = 1;
                }
            }
            std::_Exit(rc);
        }
        if (pid > 0) pids.push_back(pid);
    }
    for (pid_t pid : pids) waitpid(pid, nullptr, 0);
}

std::string ObjectCache::shared(const KernelSpec& spec, const Halide::Target& t, bool& compiled) {
    std::string path = (fs::path(dir_) / (name(spec, t) + ".so")).string();
    compiled = false;
    if (cached(path)) return path;
    std::string obj = object(spec, t, compiled);  // linking a cached object is not compiling
    write_atomically(path, [&](const std::string& tmp) { run_tool({"cc", "-shared", "-o", tmp, obj}); });
    return path;
}

std::string ObjectCache::runtime_object(const Halide::Target& t) {
    std::string path = (fs::path(dir_) / fmt::format("halide_runtime_{:016x}.o", fnv1a(compiler_identity() + "|" + t.to_string()))).string();
    if (cached(path)) return path;
    write_atomically(path, [&](const std::string& tmp) { Halide::compile_standalone_runtime(tmp, t); });
    return path;
}

std::string ObjectCache::runtime_shared(const Halide::Target& t) {
    std::string obj = runtime_object(t), path = obj.substr(0, obj.size() - 2) + ".so";
    if (cached(path)) return path;
    write_atomically(path, [&](const std::string& tmp) { run_tool({"cc", "-shared", "-o", tmp, obj, "-lpthread", "-ldl"}); });
    return path;
}

void ObjectCache::forget(const std::string& path) {
    std::error_code ec;
    fs::remove(path, ec);
    if (path.size() > 3 && path.compare(path.size() - 3, 3, ".so") == 0) fs::remove(path.substr(0, path.size() - 3) + ".o", ec);
}

// ---- RecordingKernels ----

namespace {
class Unrunnable : public Kernel {
    int invoke(const std::vector<Buf>&, const std::vector<Buf>&, const std::vector<int>&) override { return -1; }
};
}  // namespace

std::shared_ptr<Kernel> RecordingKernels::make(const KernelSpec& spec, bool& compiled) {
    specs.push_back(spec);
    compiled = false;
    return std::make_shared<Unrunnable>();
}

// ---- DiskKernels ----

void DiskKernels::prefetch(const std::vector<KernelSpec>& specs) {
    if (!cache_) return;
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::pair<KernelSpec, Halide::Target>> jobs;
    for (const auto& s : specs)
        if (!cache_->has_object(s, target_)) jobs.emplace_back(s, target_), prefetched_.insert(s.key());
    cache_->compile_all(jobs);
    add_compile_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

DiskKernels::DiskKernels(std::string dir, Halide::Target t) : target_(t) {
    if (target_ == Halide::Target()) target_ = host_target();
    try {
        cache_ = std::make_unique<ObjectCache>(dir);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cnnc: warning: %s; kernels are compiled in memory for this run\n", e.what());
        fallback_ = std::make_unique<JitKernels>(target_);
    }
}

// The handles stay open: kernels may be running until the process ends, and closing them at exit
// would race Halide's thread pool.
DiskKernels::~DiskKernels() = default;

void DiskKernels::load_runtime() {
    if (runtime_) return;
    std::string path = cache_->runtime_shared(target_);
    // Global: the kernels' undefined halide_* symbols resolve to this one runtime.
    runtime_ = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!runtime_) {
        cache_->forget(path);
        path = cache_->runtime_shared(target_);
        runtime_ = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    }
    if (!runtime_) throw std::runtime_error(fmt::format("cannot load Halide's runtime {}: {}", path, dlerror()));
    using MallocFn = void* (*)(void*, size_t);
    using FreeFn = void (*)(void*, void*);
    auto set_malloc = reinterpret_cast<MallocFn (*)(MallocFn)>(dlsym(runtime_, "halide_set_custom_malloc"));
    auto set_free = reinterpret_cast<FreeFn (*)(FreeFn)>(dlsym(runtime_, "halide_set_custom_free"));
    if (!set_malloc || !set_free) throw std::runtime_error("Halide's runtime " + path + " lacks halide_set_custom_malloc");
    set_malloc(cached_malloc);
    set_free(cached_free);
}

std::shared_ptr<Kernel> DiskKernels::make(const KernelSpec& spec, bool& compiled) {
    if (cache_) {
        try {
            return load(spec, compiled);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "cnnc: warning: the kernel cache in %s does not work (%s); kernels are compiled in memory for this run\n",
                         cache_->dir().c_str(), e.what());
            cache_.reset();
            fallback_ = std::make_unique<JitKernels>(target_);
        }
    }
    compiled = true;
    return fallback_->get(spec);
}

std::shared_ptr<Kernel> DiskKernels::load(const KernelSpec& spec, bool& compiled) {
    load_runtime();
    std::string fn = cache_->name(spec, target_) + "_argv";
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::string path = cache_->shared(spec, target_, compiled);
        void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        void* sym = h ? dlsym(h, fn.c_str()) : nullptr;
        if (sym) {
            handles_.push_back(h);
            if (prefetched_.count(spec.key())) compiled = true;
            return std::make_shared<NativeKernel>(reinterpret_cast<ArgvFn>(sym));
        }
        // A cached file that does not load (truncated by a full disk, say): compile it again.
        std::fprintf(stderr, "cnnc: warning: cached kernel %s does not load (%s); compiling it again\n", path.c_str(),
                     h ? "no entry point" : dlerror());
        if (h) dlclose(h);
        cache_->forget(path);
    }
    throw std::runtime_error("kernel " + spec.key() + " does not load");
}

}  // namespace cnnc::engine
