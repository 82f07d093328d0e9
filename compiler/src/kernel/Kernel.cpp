#include "kernel/Kernel.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace cnnc::engine {

Buf to_halide(const rt::View& v) { return to_halide(v, v.shape); }

Buf to_halide(const rt::View& v, const rt::Dims& shape) {
    std::vector<int> sizes;
    for (auto it = shape.rbegin(); it != shape.rend(); ++it) sizes.push_back(static_cast<int>(*it));
    return Buf(v.data, sizes);
}

// ---- KernelSpec ----

KernelSpec& KernelSpec::set(const std::string& k, int64_t v) { return set(k, std::to_string(v)); }
// fmt's shortest round-trip form: parse() gets the same float back, so a rebuilt kernel is the same.
KernelSpec& KernelSpec::set(const std::string& k, float v) { return set(k, fmt::format("{}", v)); }
KernelSpec& KernelSpec::set(const std::string& k, const std::vector<float>& v) { return set(k, fmt::format("{}", fmt::join(v, ";"))); }
KernelSpec& KernelSpec::set(const std::string& k, const std::string& v) {
    if (v.find_first_of("(),=") != std::string::npos) throw std::logic_error("kernel spec value '" + v + "' has a reserved character");
    args_.emplace_back(k, v);
    return *this;
}

const std::string& KernelSpec::s(const std::string& k) const {
    for (const auto& [name, v] : args_)
        if (name == k) return v;
    throw std::runtime_error("kernel spec " + key() + " has no '" + k + "'");
}
bool KernelSpec::has(const std::string& k) const {
    for (const auto& a : args_)
        if (a.first == k) return true;
    return false;
}
int KernelSpec::i(const std::string& k) const { return std::stoi(s(k)); }
int KernelSpec::i(const std::string& k, int absent) const {
    for (const auto& [name, v] : args_)
        if (name == k) return std::stoi(v);
    return absent;
}
float KernelSpec::f(const std::string& k) const { return std::strtof(s(k).c_str(), nullptr); }
std::vector<float> KernelSpec::floats(const std::string& k) const {
    std::vector<float> out;
    const std::string& t = s(k);
    size_t p = 0;
    while (p <= t.size()) {
        size_t e = t.find(';', p);
        if (e == std::string::npos) e = t.size();
        out.push_back(std::strtof(t.substr(p, e - p).c_str(), nullptr));
        p = e + 1;
    }
    return out;
}

std::string KernelSpec::key() const {
    std::string k = name_ + "(";
    for (size_t i = 0; i < args_.size(); ++i) k += (i ? "," : "") + args_[i].first + "=" + args_[i].second;
    return k + ")";
}

KernelSpec KernelSpec::parse(const std::string& key) {
    size_t open = key.find('(');
    if (open == std::string::npos || key.empty() || key.back() != ')') throw std::runtime_error("malformed kernel key '" + key + "'");
    KernelSpec s(key.substr(0, open));
    std::string body = key.substr(open + 1, key.size() - open - 2);
    size_t p = 0;
    while (p < body.size()) {
        size_t e = body.find(',', p);
        if (e == std::string::npos) e = body.size();
        std::string item = body.substr(p, e - p);
        size_t eq = item.find('=');
        if (eq == std::string::npos) throw std::runtime_error("malformed kernel key '" + key + "'");
        s.args_.emplace_back(item.substr(0, eq), item.substr(eq + 1));
        p = e + 1;
    }
    return s;
}

// ---- running ----

static const bool kProfile = std::getenv("CNNC_PROFILE") != nullptr;

void Kernel::run(const std::vector<Buf>& in, const std::vector<Buf>& out, const std::vector<int>& ints) {
    auto t0 = kProfile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    int rc = invoke(in, out, ints);
    // Shapes are checked when ops are built, so a failure here is cnnc's bug, not the user's.
    if (rc != 0) throw std::runtime_error(fmt::format("kernel {} failed with Halide error {}", key, rc));
    if (kProfile) {
        double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        seconds += dt;
        fastest = std::min(fastest, dt);
        ++calls;
    }
}

int NativeKernel::invoke(const std::vector<Buf>& in, const std::vector<Buf>& out, const std::vector<int>& ints) {
    // On the stack: this runs for every layer of every step.
    constexpr size_t kMax = 16;
    void* args[kMax];
    int32_t values[kMax];
    if (in.size() + ints.size() + out.size() > kMax) throw std::logic_error("kernel " + key + ": too many arguments");
    size_t n = 0;
    for (const Buf& b : in) args[n++] = const_cast<halide_buffer_t*>(b.raw_buffer());
    for (size_t i = 0; i < ints.size(); ++i) values[i] = ints[i], args[n++] = &values[i];
    for (const Buf& b : out) args[n++] = const_cast<halide_buffer_t*>(b.raw_buffer());
    return fn_(args);
}

// ---- the cache ----

KernelCache::~KernelCache() {
    if (!kProfile) return;
    std::vector<std::shared_ptr<Kernel>> v;
    for (auto& [k, p] : cache_) v.push_back(p);
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a->seconds > b->seconds; });
    double total = 0;
    for (auto& k : v) total += k->seconds;
    std::fprintf(stderr, "kernel profile (%.3f s in kernels, %.2f s compiling):\n", total, seconds_);
    for (auto& k : v)
        if (k->calls)
            std::fprintf(stderr, "  %8.3f s %6.1f%% %8lld calls %8.3f ms/call (fastest %.3f)  %s\n", k->seconds,
                         100 * k->seconds / total, static_cast<long long>(k->calls),
                         1e3 * k->seconds / static_cast<double>(k->calls), 1e3 * k->fastest, k->key.c_str());
}

std::shared_ptr<Kernel> KernelCache::get(const KernelSpec& spec) {
    std::string key = spec.key();
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    auto t0 = std::chrono::steady_clock::now();
    bool compiled = false;
    auto sched = schedules_.find(key);
    std::shared_ptr<Kernel> k = make(sched == schedules_.end() ? spec : sched->second, compiled);
    k->key = key;
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++(compiled ? compiled_ : reused_);
    cache_[key] = k;
    return k;
}

std::string KernelCache::describe() const {
    std::string s = fmt::format("{} kernel{}", size(), size() == 1 ? "" : "s");
    if (compiled_) s += fmt::format(", {} compiled in {:.1f} s", compiled_, seconds_);
    if (reused_) s += fmt::format(", {} {}", reused_, reused_from());
    return s;
}

// ---- Halide's allocations ----

// A block's size sits in a header before the memory Halide gets (128 bytes: its alignment), so a
// free needs no lookup. The blocks a thread freed last (up to 8, each at most 1 MB) are kept by
// that thread and handed back without a lock: a kernel that computes an intermediate per parallel
// task allocates and frees it once a task (cats vs dogs' first convolution's dW did, 5,700 times
// a call, through one mutex and a hash map for both threads: 11.3 ms, against 7.4 with the
// allocation made once an image). Older and larger blocks go to one cache by size.
namespace {
constexpr size_t kHeader = 128;
constexpr int kThreadBlocks = 8;
constexpr size_t kThreadBlockMax = size_t(1) << 20;

struct BlockCache {
    std::mutex mu;
    std::unordered_multimap<size_t, void*> free_blocks;  // size -> the memory past the header
};
BlockCache& blocks() {
    static BlockCache* c = new BlockCache;  // never destroyed: Halide may free after static teardown
    return *c;
}
size_t& size_of(void* p) { return *reinterpret_cast<size_t*>(static_cast<char*>(p) - kHeader); }

void to_shared(void* p) {
    BlockCache& c = blocks();
    std::lock_guard<std::mutex> lock(c.mu);
    c.free_blocks.emplace(size_of(p), p);
}

// Set when this thread's blocks are gone (its thread_locals destroyed, as at exit): a later call on
// it uses the shared cache only. A plain bool, so it can be read after the destructors ran.
thread_local bool thread_blocks_gone = false;

struct ThreadBlocks {
    void* p[kThreadBlocks] = {};  // oldest first
    int n = 0;
    ~ThreadBlocks() {  // a thread that ends gives its blocks to the shared cache
        thread_blocks_gone = true;
        for (int i = 0; i < n; ++i) to_shared(p[i]);
        n = 0;
    }
};
thread_local ThreadBlocks mine;
}  // namespace

void* cached_malloc(void*, size_t size) {
    size = (size + 127) / 128 * 128;  // Halide's alignment, and whole lines
    if (!thread_blocks_gone)
        for (int i = mine.n - 1; i >= 0; --i)
            if (size_of(mine.p[i]) == size) {
                void* p = mine.p[i];
                std::copy(mine.p + i + 1, mine.p + mine.n, mine.p + i);
                --mine.n;
                return p;
            }
    BlockCache& c = blocks();
    {
        std::lock_guard<std::mutex> lock(c.mu);
        auto it = c.free_blocks.find(size);
        if (it != c.free_blocks.end()) {
            void* p = it->second;
            c.free_blocks.erase(it);
            return p;
        }
    }
    char* raw = static_cast<char*>(std::aligned_alloc(128, size + kHeader));
    if (!raw) return nullptr;  // Halide reports the failed allocation
    void* p = raw + kHeader;
    size_of(p) = size;
    return p;
}

void cached_free(void*, void* p) {
    if (!p) return;
    if (thread_blocks_gone || size_of(p) > kThreadBlockMax) return to_shared(p);
    if (mine.n == kThreadBlocks) {  // the oldest makes room
        to_shared(mine.p[0]);
        std::copy(mine.p + 1, mine.p + mine.n, mine.p);
        --mine.n;
    }
    mine.p[mine.n++] = p;
}

}  // namespace cnnc::engine
