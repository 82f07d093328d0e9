// Halide's allocations (kernel/Kernel.h: cached_malloc, cached_free): blocks aligned as Halide
// needs and whole, a freed block handed back for the same size (on the thread that freed it
// without a lock, else from the shared cache), never for another size, and blocks that several
// threads allocate and free at once never given to two owners.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "kernel/Kernel.h"

using cnnc::engine::cached_free;
using cnnc::engine::cached_malloc;

TEST_CASE("Halide's block cache: aligned whole blocks, reused by size, safe across threads", "[engine]") {
    // Sizes Halide asks for: odd ones, one past a line, a large one (past what a thread keeps).
    for (size_t size : {size_t(1), size_t(100), size_t(129), size_t(22796), (size_t(3) << 20) + 40}) {
        auto* p = static_cast<unsigned char*>(cached_malloc(nullptr, size));
        REQUIRE(p);
        CHECK(reinterpret_cast<uintptr_t>(p) % 128 == 0);
        std::memset(p, 0xab, size);  // the whole block is ours (ASan and the header would say otherwise)
        cached_free(nullptr, p);
        // The same size again: the same block (from this thread's blocks; the large one from the
        // shared cache, which holds no other of its odd size).
        void* q = cached_malloc(nullptr, size);
        CHECK(q == p);
        // Another, larger size: never that block, taken or free (it is too small).
        cached_free(nullptr, q);
        auto* r = static_cast<unsigned char*>(cached_malloc(nullptr, size + 4096));
        CHECK(static_cast<void*>(r) != q);
        std::memset(r, 0xcd, size + 4096);
        cached_free(nullptr, r);
    }
    // More blocks freed at once than a thread keeps: the rest go to the shared cache and come back
    // (a size no kernel of the other tests allocates, so the cache holds only these).
    const size_t odd = 123456;
    std::vector<void*> many;
    for (int i = 0; i < 40; ++i) many.push_back(cached_malloc(nullptr, odd));
    CHECK(std::set<void*>(many.begin(), many.end()).size() == many.size());
    for (void* p : many) cached_free(nullptr, p);
    std::set<void*> again;
    for (int i = 0; i < 40; ++i) again.insert(cached_malloc(nullptr, odd));
    CHECK(again == std::set<void*>(many.begin(), many.end()));
    for (void* p : again) cached_free(nullptr, p);

    // Four threads each hold blocks of 12 sizes (more than a thread keeps), filled with their
    // id; then each frees the next one's (blocks cross threads and the shared cache) while taking
    // new ones. No block is ever held by two at once: all held blocks are distinct and intact.
    constexpr int kThreads = 4, kBlocks = 120;
    auto size_for = [](int i) { return size_t(256) * size_t(1 + i % 12); };
    std::vector<std::vector<int*>> held(kThreads);
    auto take = [&](int t) {
        for (int i = 0; i < kBlocks; ++i) {
            auto* p = static_cast<int*>(cached_malloc(nullptr, size_for(i)));
            std::fill(p, p + size_for(i) / sizeof(int), t);
            held[static_cast<size_t>(t)].push_back(p);
        }
    };
    auto intact = [&] {
        std::set<int*> all;
        int bad = 0;
        for (int t = 0; t < kThreads; ++t)
            for (size_t i = 0; i < held[static_cast<size_t>(t)].size(); ++i) {
                int* p = held[static_cast<size_t>(t)][i];
                all.insert(p);
                bad += std::count_if(p, p + size_for(static_cast<int>(i)) / sizeof(int), [t](int v) { return v != t; }) > 0;
            }
        CHECK(all.size() == size_t(kThreads) * kBlocks);
        CHECK(bad == 0);
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(take, t);
    for (auto& th : threads) th.join();
    intact();
    std::vector<std::vector<int*>> theirs = held;
    for (auto& h : held) h.clear();
    threads.clear();
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int* p : theirs[static_cast<size_t>((t + 1) % kThreads)]) cached_free(nullptr, p);
            take(t);
        });
    for (auto& th : threads) th.join();
    intact();
    for (auto& h : held)
        for (int* p : h) cached_free(nullptr, p);

    // A block allocated on one thread and freed on another is reused by the next allocation.
    void* p = nullptr;
    std::thread([&p] { p = cached_malloc(nullptr, 777); }).join();
    cached_free(nullptr, p);
    CHECK(cached_malloc(nullptr, 777) == p);
    cached_free(nullptr, p);
}
