// Buffers placed in one arena by liveness: two buffers whose lifetimes do not overlap may share
// memory. The network plans its activations and gradients with it (net/Network.h).
#pragma once
#include <cstdint>
#include <vector>

namespace cnnc::rt {

// A buffer of `size` units (bytes, floats: the planner does not care) in use from step `first` to
// step `last`, both included.
struct PlannedBuffer {
    int64_t size = 0;
    int first = 0, last = 0;
};

struct MemoryPlan {
    std::vector<int64_t> offsets;  // one per buffer, in the order given
    int64_t peak = 0;              // the arena's size
    int64_t naive = 0;             // the sum of the sizes: every buffer its own memory
};

// Offsets that are multiples of `alignment`, such that buffers alive at the same step never
// overlap. Greedy by size, first fit: see MemoryPlan.cpp.
MemoryPlan plan_memory(const std::vector<PlannedBuffer>& buffers, int64_t alignment = 1);

}  // namespace cnnc::rt
