#include "kernels/Aot.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <link.h>
#include <signal.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "kernels/Jit.h"
#include "kernel/ParallelFor.h"
#include "kernels/KernelDef.h"
#include "kernels/Tuning.h"
#include "kernels/Sha256.h"

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

namespace {
constexpr const char* kRecord = ".sha256";

void warn(const std::string& message) { std::fprintf(stderr, "cnnc: warning: %s\n", message.c_str()); }

// "<file>.tmp<pid>" -> pid, or 0 when `name` is not a temporary of the cache.
pid_t temporary_owner(const std::string& name) {
    size_t at = name.rfind(".tmp");
    if (at == std::string::npos || at + 4 == name.size()) return 0;
    pid_t pid = 0;
    for (size_t i = at + 4; i < name.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(name[i])) || pid > 100000000) return 0;
        pid = pid * 10 + (name[i] - '0');
    }
    return pid;
}

// The digest recorded for `path`, or "" when there is no well-formed record.
std::string recorded_digest(const std::string& path) {
    std::ifstream in(path + kRecord);
    std::string digest;
    if (!(in >> digest) || digest.size() != 64 || digest.find_first_not_of("0123456789abcdef") != std::string::npos) return "";
    return digest;
}

void remove_with_record(const std::string& path) {
    std::error_code ec;
    fs::remove(path, ec);
    fs::remove(path + kRecord, ec);
}

// Whether a failed write's message is the disk's (or quota's) being full. LLVM and the linker
// report only text, with strerror's words in it.
bool says_full(const std::string& message) {
    return message.find(std::strerror(ENOSPC)) != std::string::npos || message.find(std::strerror(EDQUOT)) != std::string::npos;
}

void write_text(const std::string& path, const std::string& text) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error(std::strerror(errno));
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0;
    int err = errno;
    if (std::fclose(f) != 0 && ok) ok = false, err = errno;
    if (!ok) throw std::runtime_error(std::strerror(err));
}

// The line of a compiler's output that says why it failed: the first that names an error (LLVM
// follows its "LLVM ERROR: ..." with a stack dump), else the last.
std::string why(const std::string& output) {
    std::stringstream ss(output);
    std::string line, last;
    while (std::getline(ss, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        std::string lower = line;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower.find("error") != std::string::npos) return line;
        last = line;
    }
    return last;
}

// Runs `work` in a child process and waits for it. Halide's LLVM back end calls abort() when it
// cannot write its output (a full disk): that must cost one file, not the run. The child's error
// output is kept for the message instead of being printed.
void in_child(const std::function<void()>& work) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error(std::string("cannot make a pipe: ") + std::strerror(errno));
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(out[0]);
        dup2(out[1], 2);
        try {
            work();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s\n", e.what());
            std::fflush(stderr);
            std::_Exit(1);
        }
        std::fflush(stderr);
        std::_Exit(0);
    }
    close(out[1]);
    std::string text;
    char buf[4096];
    ssize_t n;
    while (pid > 0 && ((n = read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0) text.append(buf, static_cast<size_t>(n));
    close(out[0]);
    if (pid < 0) throw std::runtime_error(std::string("cannot start a process: ") + std::strerror(errno));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    text = why(text);
    if (WIFSIGNALED(status))
        throw std::runtime_error(fmt::format("the compiler was killed by signal {} ({}){}{}", WTERMSIG(status), strsignal(WTERMSIG(status)),
                                             text.empty() ? "" : ": ", text));
    throw std::runtime_error(text.empty() ? "the compiler failed" : text);
}
}  // namespace

ObjectCache::ObjectCache(std::string dir) : dir_(std::move(dir)) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (!fs::is_directory(dir_, ec)) throw CacheError("cannot create the kernel cache directory " + dir_);
    // A process killed while writing (or a disk that filled under LLVM) leaves "<file>.tmp<pid>".
    // A temporary whose process is gone will never be renamed: remove it.
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
        pid_t pid = temporary_owner(it->path().filename().string());
        if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec), ec.clear();
    }
}

std::string ObjectCache::name(const KernelSpec& spec, const Halide::Target& t) const {
    return fmt::format("k{:016x}", fnv1a(compiler_identity() + "|" + t.to_string() + "|" + spec.key()));
}

bool ObjectCache::intact(const std::string& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return false;  // missing; something else in its place fails to be written over
    std::string recorded = recorded_digest(path), why;
    if (recorded.empty()) {
        why = "has no checksum record " + path + kRecord;
    } else {
        try {
            if (sha256_of_file(path) == recorded) return true;
            why = "does not match its checksum (truncated or corrupt)";
        } catch (const std::exception& e) {
            why = fmt::format("cannot be checked ({})", e.what());
        }
    }
    warn(fmt::format("cached kernel file {} {}; compiling it again", path, why));
    remove_with_record(path);
    return false;
}

bool ObjectCache::out_of_space() {
    struct statvfs st {};
    if (!full_ && statvfs(dir_.c_str(), &st) == 0) full_ = static_cast<uint64_t>(st.f_bavail) * st.f_frsize < kMinFree;
    return full_;
}

void ObjectCache::write(const std::string& path, const std::function<void(const std::string&)>& make) {
    if (out_of_space()) throw CacheFull(fmt::format("the kernel cache's disk is full (less than {} KB free in {})", kMinFree / 1024, dir_));
    const std::string tmp = fmt::format("{}.tmp{}", path, getpid()), record = path + kRecord;
    const std::string record_tmp = fmt::format("{}.tmp{}", record, getpid());
    std::error_code ec;
    try {
        make(tmp);
        if (!fs::is_regular_file(tmp, ec) || fs::file_size(tmp, ec) == 0) throw std::runtime_error("nothing was written");
        // The record first: a file in place always has its record, and a record without its file
        // (a kill in between) is overwritten by the next write.
        write_text(record_tmp, sha256_of_file(tmp) + "  " + fs::path(path).filename().string() + "\n");
        if (std::rename(record_tmp.c_str(), record.c_str()) != 0) throw std::runtime_error(std::strerror(errno));
        if (std::rename(tmp.c_str(), path.c_str()) != 0) {
            int err = errno;
            fs::remove(record, ec);
            throw std::runtime_error(std::strerror(err));
        }
    } catch (const std::exception& e) {
        fs::remove(tmp, ec);
        fs::remove(record_tmp, ec);
        // A write that filled the disk is the last one: what follows would fail the same way.
        std::string message = fmt::format("cannot write {}: {}", path, e.what());
        if (says_full(e.what()) || out_of_space()) {
            full_ = true;
            throw CacheFull(message);
        }
        throw CacheError(message);
    }
}

bool ObjectCache::has_object(const KernelSpec& spec, const Halide::Target& t) {
    return intact((fs::path(dir_) / (name(spec, t) + ".o")).string());
}

bool ObjectCache::has_shared(const KernelSpec& spec, const Halide::Target& t) {
    return intact((fs::path(dir_) / (name(spec, t) + ".so")).string());
}

std::string ObjectCache::object(const KernelSpec& spec, const Halide::Target& t, bool& compiled) {
    std::string fn = name(spec, t), path = (fs::path(dir_) / (fn + ".o")).string();
    compiled = false;
    if (intact(path)) return path;
    write(path, [&](const std::string& tmp) {
        in_child([&] {
            KernelDef d = build_kernel(fit_to_target(spec, t));
            d.pipeline.compile_to_object(tmp, d.arguments(), fn, t.with_feature(Halide::Target::NoRuntime));
        });
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
            // Ctrl-C reaches the workers too: they stop by it silently, the parent says why.
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
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
    bool failed = false;
    for (pid_t pid : pids) {
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        failed |= !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    if (failed) out_of_space();  // the workers filled the disk? then what they could not write is not tried again
}

std::string ObjectCache::shared(const KernelSpec& spec, const Halide::Target& t, bool& compiled) {
    std::string path = (fs::path(dir_) / (name(spec, t) + ".so")).string();
    compiled = false;
    if (intact(path)) return path;
    std::string obj = object(spec, t, compiled);  // linking a cached object is not compiling
    write(path, [&](const std::string& tmp) { run_tool({"cc", "-shared", "-o", tmp, obj}); });
    return path;
}

std::string ObjectCache::runtime_object(const Halide::Target& t) {
    std::string path = (fs::path(dir_) / fmt::format("halide_runtime_{:016x}.o", fnv1a(compiler_identity() + "|" + t.to_string()))).string();
    if (intact(path)) return path;
    write(path, [&](const std::string& tmp) { in_child([&] { Halide::compile_standalone_runtime(tmp, t); }); });
    return path;
}

std::string ObjectCache::runtime_shared(const Halide::Target& t) {
    std::string obj = runtime_object(t), path = obj.substr(0, obj.size() - 2) + ".so";
    if (intact(path)) return path;
    write(path, [&](const std::string& tmp) { run_tool({"cc", "-shared", "-o", tmp, obj, "-lpthread", "-ldl"}); });
    return path;
}

void ObjectCache::forget(const std::string& path) {
    remove_with_record(path);
    if (path.size() > 3 && path.compare(path.size() - 3, 3, ".so") == 0) remove_with_record(path.substr(0, path.size() - 3) + ".o");
}

// ---- DiskKernels ----

void DiskKernels::prefetch(const std::vector<KernelSpec>& specs) {
    // The runtime first: every kernel needs it, and it is written before the kernels fill a disk.
    if (!cache_ || !load_runtime()) return;
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::pair<KernelSpec, Halide::Target>> jobs;
    for (const auto& s : specs)
        if (!cache_->has_shared(s, target_) && !cache_->has_object(s, target_)) jobs.emplace_back(s, target_), prefetched_.insert(s.key());
    cache_->compile_all(jobs);
    add_compile_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

DiskKernels::DiskKernels(std::string dir, Halide::Target t) : target_(t) {
    if (target_ == Halide::Target()) target_ = host_target();
    try {
        cache_ = std::make_unique<ObjectCache>(dir);
    } catch (const std::exception& e) {
        warn(fmt::format("{}; kernels are compiled in memory for this run", e.what()));
    }
}

// The handles stay open: kernels may be running until the process ends, and closing them at exit
// would race Halide's thread pool.
DiskKernels::~DiskKernels() = default;

bool DiskKernels::load_runtime() {
    if (runtime_) return true;
    try {
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
        auto set_par_for = reinterpret_cast<halide_do_par_for_t (*)(halide_do_par_for_t)>(dlsym(runtime_, "halide_set_custom_do_par_for"));
        if (!set_par_for) throw std::runtime_error("Halide's runtime " + path + " lacks halide_set_custom_do_par_for");
        set_par_for(parallel_for);
        return true;
    } catch (const std::exception& e) {
        warn(fmt::format("the kernel cache in {} does not work ({}); kernels are compiled in memory for this run", cache_->dir(), e.what()));
        cache_.reset();
        return false;
    }
}

std::shared_ptr<Kernel> DiskKernels::make(const KernelSpec& spec, bool& compiled) {
    if (cache_ && load_runtime()) {
        try {
            return load(spec, compiled);
        } catch (const CacheFull& e) {
            if (!told_full_)
                warn(fmt::format("{}; kernels not in the cache are compiled in memory for this run (those in it are still used)", e.what()));
            told_full_ = true;
        } catch (const std::exception& e) {
            warn(fmt::format("{}; kernel {} is compiled in memory for this run", e.what(), spec.key()));
        }
    }
    compiled = true;
    if (!fallback_) fallback_ = std::make_unique<JitKernels>(target_);
    return fallback_->get(spec);
}

std::shared_ptr<Kernel> DiskKernels::load(const KernelSpec& spec, bool& compiled) {
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
        // Intact but unloadable (written by a broken linker, say): compile it again, once.
        warn(fmt::format("cached kernel {} does not load ({}); compiling it again", path, h ? "no entry point" : dlerror()));
        if (h) dlclose(h);
        cache_->forget(path);
    }
    throw CacheError("kernel " + spec.key() + " does not load");
}

}  // namespace cnnc::engine
