// The kernels' parallel loops (kernel/ParallelFor.h): every task runs exactly once, on any number
// of tasks, after the workers fell asleep, from two threads at once, nested, and a task's error
// is returned.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "kernel/ParallelFor.h"

using cnnc::engine::parallel_for;

namespace {

struct Counts {
    std::vector<std::atomic<int>> hits;
    int base = 0;
    explicit Counts(int n, int base_) : hits(static_cast<size_t>(n)), base(base_) {}
};

int count_task(void*, int i, uint8_t* closure) {
    auto* c = reinterpret_cast<Counts*>(closure);
    c->hits[static_cast<size_t>(i - c->base)].fetch_add(1);
    return 0;
}

// Every index of [base, base + n) hit once by one parallel_for.
void require_each_once(int n, int base) {
    Counts c(n, base);
    REQUIRE(parallel_for(nullptr, count_task, base, n, reinterpret_cast<uint8_t*>(&c)) == 0);
    for (int i = 0; i < n; ++i) {
        INFO("task " << base + i << " of " << n);
        REQUIRE(c.hits[static_cast<size_t>(i)].load() == 1);
    }
}

int nested_task(void*, int i, uint8_t* closure) {
    auto* outer = reinterpret_cast<std::vector<Counts>*>(closure);
    Counts& inner = (*outer)[static_cast<size_t>(i)];
    return parallel_for(nullptr, count_task, 0, static_cast<int>(inner.hits.size()), reinterpret_cast<uint8_t*>(&inner));
}

int failing_task(void*, int i, uint8_t*) { return i == 37 ? -5 : 0; }

}  // namespace

TEST_CASE("parallel_for runs every task exactly once", "[engine][threads]") {
    for (int n : {0, 1, 2, 3, 7, 64, 1000, 100003}) require_each_once(n, n % 5 - 2);
}

TEST_CASE("parallel_for wakes workers that fell asleep, and serves two threads at once", "[engine][threads]") {
    for (int round = 0; round < 5; ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // past the workers' spin: they sleep
        require_each_once(513, 0);
    }
    std::atomic<int> failures{0};
    auto loops = [&] {
        for (int r = 0; r < 300; ++r) {
            Counts c(257, 0);
            if (parallel_for(nullptr, count_task, 0, 257, reinterpret_cast<uint8_t*>(&c)) != 0) ++failures;
            for (auto& h : c.hits) failures += h.load() != 1;
        }
    };
    std::thread a(loops), b(loops);
    a.join();
    b.join();
    CHECK(failures.load() == 0);
}

TEST_CASE("a parallel loop inside a task runs, and a task's error is returned", "[engine][threads]") {
    std::vector<Counts> inner;
    inner.reserve(40);
    for (int i = 0; i < 40; ++i) inner.emplace_back(50 + i, 0);
    REQUIRE(parallel_for(nullptr, nested_task, 0, 40, reinterpret_cast<uint8_t*>(&inner)) == 0);
    for (auto& c : inner)
        for (auto& h : c.hits) REQUIRE(h.load() == 1);
    CHECK(parallel_for(nullptr, failing_task, 0, 100, nullptr) == -5);
    require_each_once(100, 0);  // and the pool still works after it
}
