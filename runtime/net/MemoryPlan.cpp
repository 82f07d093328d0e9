#include "net/MemoryPlan.h"

#include <algorithm>
#include <numeric>

namespace cnnc::rt {

// Finding the smallest arena is NP-hard (it is dynamic storage allocation). Greedy by size is
// what TensorFlow Lite's arena planner does (Pisarchyk and Lee, "Efficient Memory Management for
// Deep Neural Net Inference", 2020): the largest buffers are the hardest to fit, so they go first,
// each at the lowest offset where it overlaps no placed buffer that is alive at the same time; the
// small ones then fill the gaps. On the networks here it finds the peak of the largest live set or
// close to it, in O(n² log n) for n buffers (a few hundred at most), once per prepare().
MemoryPlan plan_memory(const std::vector<PlannedBuffer>& buffers, int64_t alignment) {
    const size_t n = buffers.size();
    auto round_up = [&](int64_t v) { return (v + alignment - 1) / alignment * alignment; };
    MemoryPlan plan;
    plan.offsets.assign(n, 0);
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    // Ties by first use, then by index: the same plan on every machine.
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        if (buffers[a].size != buffers[b].size) return buffers[a].size > buffers[b].size;
        return buffers[a].first < buffers[b].first;
    });
    std::vector<size_t> placed;
    for (size_t b : order) {
        const PlannedBuffer& buf = buffers[b];
        plan.naive += buf.size;
        // The placed buffers alive at the same time, by offset: the first gap that holds `buf`.
        std::vector<size_t> live;
        for (size_t p : placed)
            if (buffers[p].first <= buf.last && buf.first <= buffers[p].last) live.push_back(p);
        std::sort(live.begin(), live.end(), [&](size_t x, size_t y) { return plan.offsets[x] < plan.offsets[y]; });
        int64_t at = 0;
        for (size_t p : live) {
            if (plan.offsets[p] >= at + buf.size) break;
            at = std::max(at, round_up(plan.offsets[p] + buffers[p].size));
        }
        plan.offsets[b] = at;
        plan.peak = std::max(plan.peak, at + buf.size);
        placed.push_back(b);
    }
    return plan;
}

}  // namespace cnnc::rt
