// Layout and register-tiling helpers shared by the lowerings.
#pragma once
#include <Halide.h>

#include <vector>


namespace cnnc::engine {

namespace sched {
// The widest vector (16, 8, 4 or 1 floats) that divides `channels`.
inline int vector_width(int64_t channels) {
    for (int v : {16, 8, 4})
        if (channels % v == 0) return v;
    return 1;
}
}  // namespace sched

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
// Among tiles of at most 24 accumulators, pick the one that wastes least work at the edge of
// `other_extent` (a split of 11 by 5 computes 15) while keeping at least ~12 accumulators busy.
// With `exact`, only tiles that divide other_extent: an update stage's split is rounded up, and a
// rounded-up tile would read past the end of what it reduces.
inline Tile register_tile(int channels, int other_extent, bool exact = false) {
    Tile best{sched::vector_width(channels), 1, 1};
    double best_score = -1;
    for (int vecs = 1; vecs <= 4; ++vecs) {
        if ((channels / best.vec) % vecs != 0) continue;
        for (int o = 1; o <= std::min(other_extent, 24 / vecs); ++o) {
            if (exact && other_extent % o != 0) continue;
            int tiles = (other_extent + o - 1) / o;
            double useful = double(other_extent) / double(tiles * o);
            double busy = std::min(1.0, double(vecs * o) / 12.0);
            double score = useful * busy + 0.01 * vecs;  // ties: more vectors, fewer broadcasts
            if (score > best_score) best_score = score, best.vecs = vecs, best.other = o;
        }
    }
    return best;
}

}  // namespace cnnc::engine
