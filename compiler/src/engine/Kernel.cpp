#include "engine/Kernel.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

namespace cnnc::engine {

Halide::Buffer<float> to_halide(const rt::View& v) { return to_halide(v, v.shape); }

Halide::Buffer<float> to_halide(const rt::View& v, const rt::Dims& shape) {
    std::vector<int> sizes;
    for (auto it = shape.rbegin(); it != shape.rend(); ++it) sizes.push_back(static_cast<int>(*it));
    return Halide::Buffer<float>(v.data, sizes);
}

namespace {
// Halide allocates every root-computed intermediate on every realize, and large blocks go through
// mmap/munmap and page faults (a 6 ms training step measured at 26-46 ms that way). This cache
// keeps freed blocks by size and hands them back on the next call.
struct BlockCache {
    std::mutex mu;
    std::unordered_multimap<size_t, void*> free_blocks;
    std::unordered_map<void*, size_t> sizes;
};
BlockCache& blocks() {
    static BlockCache* c = new BlockCache;  // never destroyed: Halide may free after static teardown
    return *c;
}
void* cached_malloc(void*, size_t size) {
    size = (size + 63) / 64 * 64;
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
    void* p = std::aligned_alloc(64, size);
    std::lock_guard<std::mutex> lock(c.mu);
    c.sizes[p] = size;
    return p;
}
void cached_free(void*, void* p) {
    if (!p) return;
    BlockCache& c = blocks();
    std::lock_guard<std::mutex> lock(c.mu);
    c.free_blocks.emplace(c.sizes.at(p), p);
}
}  // namespace

Halide::Target host_target() { return Halide::get_host_target().without_feature(Halide::Target::AVX512_SapphireRapids); }

static const bool kProfile = std::getenv("CNNC_PROFILE") != nullptr;

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

void Kernel::run(const std::vector<Halide::Buffer<float>>& in, const std::vector<Halide::Buffer<float>>& out,
                 const std::vector<int>& int_args) {
    auto t0 = kProfile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    for (size_t i = 0; i < inputs.size(); ++i) inputs[i].set(in.at(i));
    for (size_t i = 0; i < ints.size(); ++i) ints[i].set(int_args.at(i));
    if (out.size() == 1) {
        Halide::Buffer<float> o = out[0];
        pipeline.realize(o);
    } else {
        std::vector<Halide::Buffer<>> bufs(out.begin(), out.end());
        Halide::Realization r(bufs);
        pipeline.realize(r);
    }
    if (kProfile) {
        double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        seconds += dt;
        fastest = std::min(fastest, dt);
        ++calls;
    }
}

std::shared_ptr<Kernel> KernelCache::get(const std::string& key, const std::function<Kernel()>& build) {
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    auto t0 = std::chrono::steady_clock::now();
    auto k = std::make_shared<Kernel>(build());
    k->key = key;
    k->pipeline.set_custom_allocator(cached_malloc, cached_free);
    k->pipeline.compile_jit(target_);
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cache_[key] = k;
    return k;
}

namespace sched {
int vector_width(int64_t c) {
    for (int v : {16, 8, 4})
        if (c % v == 0) return v;
    return 1;
}
}  // namespace sched

}  // namespace cnnc::engine
