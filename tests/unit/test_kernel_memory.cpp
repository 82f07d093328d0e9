// Halide's allocations (kernel/Kernel.h: cached_malloc, cached_free): blocks aligned as Halide
// needs and whole, a freed block handed back for the same size (on the thread that freed it
// without a lock, else from the shared cache), never for another size, and blocks that several
// threads allocate and free at once never given to two owners.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "kernel/Kernel.h"

using cnnc::engine::cached_free;
using cnnc::engine::cached_malloc;

TEST_CASE("Halide's block cache: aligned whole blocks, reused by size, safe across threads", "[engine]") {
    // Sizes Halide asks for: odd ones, one past a line, a large one.
    for (size_t size : {size_t(1), size_t(100), size_t(129), size_t(22796), size_t(3) << 20}) {
        auto* p = static_cast<unsigned char*>(cached_malloc(nullptr, size));
        REQUIRE(p);
        CHECK(reinterpret_cast<uintptr_t>(p) % 128 == 0);
        std::memset(p, 0xab, size);  // the whole block is ours (ASan and the header would say otherwise)
        cached_free(nullptr, p);
        // The same size again: the same block, straight from this thread's blocks.
        void* q = cached_malloc(nullptr, size);
        CHECK(q == p);
        // Another size: never that block while it is taken, nor a block too small.
        auto* r = static_cast<unsigned char*>(cached_malloc(nullptr, size + 4096));
        CHECK(static_cast<void*>(r) != q);
        std::memset(r, 0xcd, size + 4096);
        CHECK(static_cast<unsigned char*>(q)[0] == 0xab);
        CHECK(static_cast<unsigned char*>(q)[size - 1] == 0xab);
        cached_free(nullptr, r);
        cached_free(nullptr, q);
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

    // Threads that allocate here and free there: no block is ever held by two at once (each
    // writes its id over its block and finds it intact before freeing it).
    std::vector<std::thread> threads;
    std::vector<int> broken(4, 0);
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([t, &broken] {
            for (int i = 0; i < 2000; ++i) {
                const size_t size = 256 * (1 + (i + t) % 5);
                auto* p = static_cast<int*>(cached_malloc(nullptr, size));
                for (size_t k = 0; k < size / sizeof(int); ++k) p[k] = t;
                std::this_thread::yield();
                for (size_t k = 0; k < size / sizeof(int); ++k) broken[static_cast<size_t>(t)] += p[k] != t;
                cached_free(nullptr, p);
            }
        });
    for (auto& th : threads) th.join();
    for (int b : broken) CHECK(b == 0);
    // A block allocated on one thread and freed on another is reused by the next allocation.
    void* p = nullptr;
    std::thread([&p] { p = cached_malloc(nullptr, 777); }).join();
    cached_free(nullptr, p);
    CHECK(cached_malloc(nullptr, 777) == p);
    cached_free(nullptr, p);
}
