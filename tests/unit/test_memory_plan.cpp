// The liveness planner (runtime/net/MemoryPlan.h) against offsets placed by hand, and the network's
// plan on a ResNet-shaped graph against the sum of its buffers.
#include <catch2/catch.hpp>

#include "GraphOps.h"
#include "net/MemoryPlan.h"

using namespace cnnc;
using namespace cnnc::test;

TEST_CASE("the planner places the largest buffer first, each at the lowest offset free for its lifetime", "[memory]") {
    // B (8, steps 1-2) at 0; A (4, 0-1) meets B at step 1: after it, 8; C (4, 2-3) meets B but not
    // A: 8 as well; D (2, 0-3) meets all three: 12. Peak 14 of 18.
    rt::MemoryPlan p = rt::plan_memory({{4, 0, 1}, {8, 1, 2}, {4, 2, 3}, {2, 0, 3}});
    CHECK(p.offsets == std::vector<int64_t>{8, 0, 8, 12});
    CHECK(p.peak == 14);
    CHECK(p.naive == 18);
}

TEST_CASE("buffers that never live together share memory, alignment rounds offsets up", "[memory]") {
    rt::MemoryPlan apart = rt::plan_memory({{10, 0, 0}, {10, 1, 1}, {6, 2, 5}});
    CHECK(apart.offsets == std::vector<int64_t>{0, 0, 0});
    CHECK(apart.peak == 10);
    CHECK(apart.naive == 26);
    // 5 floats at 0, then 3 at 8 (not 5) with 4-unit alignment; a gap of 3 before an aligned 8 is used.
    rt::MemoryPlan aligned = rt::plan_memory({{3, 0, 1}, {5, 0, 1}}, 4);
    CHECK(aligned.offsets == std::vector<int64_t>{8, 0});
    CHECK(aligned.peak == 11);
}

TEST_CASE("a ResNet-shaped network's plan is smaller than the sum of its buffers", "[memory][graph]") {
    // A stem and three residual blocks (two layers each, then the addition of the block's input),
    // every tensor T = 8x8x16 floats, then a head of 16 and 10. Inference: at most three tensors
    // of T live at once (the block's input, its two layers' outputs), so 3T of the 10T.
    const int64_t T = 8 * 8 * 16;
    rt::Network net({8, 8, 16});
    int x = net.add("stem", std::make_unique<Scale>(rt::Dims{8, 8, 16}), {8, 8, 16});
    for (int b = 0; b < 3; ++b) {
        int a = net.add("a", std::make_unique<Scale>(rt::Dims{8, 8, 16}), {8, 8, 16}, {x});
        int c = net.add("b", std::make_unique<Tanh>(), {8, 8, 16}, {a});
        x = net.add("add", std::make_unique<Mix>(), {8, 8, 16}, {c, x});
    }
    int flat = net.add("flatten", std::make_unique<Reshape>(), {T}, {x});
    int head = net.add("head", std::make_unique<Head>(T, 16), {16}, {flat});
    net.add("out", std::make_unique<Head>(16, 10), {10}, {head});
    rt::Network::Memory inference = net.memory(false);
    CHECK(inference.activations == (10 * T + 16 + 10) * 4);
    CHECK(inference.gradients == 0);
    CHECK(inference.planned == 3 * T * 4);
    rt::Network::Memory training = net.memory(true);
    INFO("training: planned " << training.planned << " of " << training.naive());
    CHECK(training.gradients > 0);
    CHECK(training.planned < training.naive());
    // Training keeps every activation for its backward: never less than their sum.
    CHECK(training.planned >= training.activations);
}
