// Layout and register-tiling helpers shared by the lowerings.
#pragma once
#include <Halide.h>

#include <vector>

#include "engine/Kernel.h"

namespace cnnc::engine {

// Declares a dense innermost-first layout with known extents (0: unknown, e.g. the batch) so the
// generated code needs no stride arithmetic and no tails.
template <class P>
void dense_layout(P p, const std::vector<int>& extents) {
    int stride = 1;
    for (size_t i = 0; i < extents.size(); ++i) {
        p.dim(static_cast<int>(i)).set_stride(stride);
        if (extents[i] <= 0) break;
        p.dim(static_cast<int>(i)).set_bounds(0, extents[i]);
        stride *= extents[i];
    }
}

// Largest t in [1, limit] dividing n.
inline int divisor_tile(int n, int limit) {
    for (int t = std::min(n, limit); t > 1; --t)
        if (n % t == 0) return t;
    return 1;
}

// A register tile of `channels` (vec lanes × vecs vectors) by `other` positions: about 20
// accumulators, which AVX-512's 32 registers hold with room for the operands.
struct Tile {
    int vec, vecs, other;
};
inline Tile register_tile(int channels, int other_extent) {
    Tile t;
    t.vec = sched::vector_width(channels);
    t.vecs = divisor_tile(channels / t.vec, 4);
    t.other = std::max(1, std::min(other_extent, 20 / t.vecs));
    return t;
}

}  // namespace cnnc::engine
