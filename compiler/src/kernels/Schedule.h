// Layout and register-tiling helpers shared by the lowerings.
#pragma once
#include <Halide.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kernel/Kernel.h"


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
    bool operator==(const Tile& t) const { return vec == t.vec && vecs == t.vecs && other == t.other; }
};
// How much of a tile's work is useful at the edge of `other_extent` (a split of 11 by 5 computes
// 15) times how busy it keeps `budget` accumulators (half of them busy counts as full), with a
// small preference for more vectors (fewer broadcasts) to break ties.
inline double tile_score(const Tile& t, int other_extent, int budget) {
    int tiles = (other_extent + t.other - 1) / t.other;
    double useful = double(other_extent) / double(tiles * t.other);
    double busy = std::min(1.0, double(t.vecs * t.other) / (budget / 2.0));
    return useful * busy + 0.01 * t.vecs;
}
// The best-scoring tile of at most `budget` accumulators whose vectors have `vec` lanes. With
// `exact`, only tiles that divide other_extent: an update stage's split is rounded up, and a
// rounded-up tile would read past the end of what it reduces. `accept`, where given, rules out
// tiles a family cannot use well (when it rules out all, the result is {vec, 1, 1}).
inline Tile best_tile(int channels, int other_extent, bool exact, int budget, int vec,
                      const std::function<bool(const Tile&)>& accept = nullptr) {
    Tile best{vec, 1, 1};
    double best_score = -1;
    for (int vecs = 1; vecs <= 4; ++vecs) {
        if ((channels / vec) % vecs != 0) continue;
        for (int o = 1; o <= std::min(other_extent, budget / vecs); ++o) {
            if (exact && other_extent % o != 0) continue;
            Tile t{vec, vecs, o};
            if (accept && !accept(t)) continue;
            double score = tile_score(t, other_extent, budget);
            if (score > best_score) best_score = score, best = t;
        }
    }
    return best;
}
// The accumulators of the builders' default tile, counted in AVX-512's 32 registers.
inline constexpr int kDefaultAccumulators = 24;
// The builders' default: among tiles of at most 24 accumulators of the widest vectors, the one that
// wastes least at the edge while keeping at least ~12 accumulators busy. Right for AVX-512's 32
// registers; default_tile (below) fits a CPU with fewer, and tuning (kernels/Tuner.h) measures.
inline Tile register_tile(int channels, int other_extent, bool exact = false) {
    return best_tile(channels, other_extent, exact, kDefaultAccumulators, sched::vector_width(channels));
}

// The schedule arguments a tuned KernelSpec carries besides the layer's (kernels/Tuner.h chooses
// them by measurement). Each is 0 when absent: the builder's default. Named with an "s_" prefix,
// so a spec without them has the key it always had, and the builder checks every value it reads
// (a hand-edited schedules file gives a valid kernel, never a wrong one).
struct Knobs {
    int vec = 0, vecs = 0, other = 0;  // the register tile
    int grain = 0;                     // rows of the parallel loop per task
    int chunks = 0;                    // parallel partial sums of a reduction over the batch
    int order = 0;                     // an alternative loop order (its meaning is the family's)
    int cols = 0;                      // columns of a row per block (the family's own blocking)
    static Knobs from(const KernelSpec& s) {
        return {s.i("s_vec", 0), s.i("s_vecs", 0), s.i("s_other", 0), s.i("s_grain", 0), s.i("s_chunks", 0), s.i("s_order", 0), s.i("s_cols", 0)};
    }
    // `s` with these knobs set (those that are 0 left out).
    KernelSpec apply(KernelSpec s) const {
        const std::pair<const char*, int> all[] = {{"s_vec", vec}, {"s_vecs", vecs}, {"s_other", other}, {"s_grain", grain}, {"s_chunks", chunks}, {"s_order", order}, {"s_cols", cols}};
        for (const auto& [name, v] : all)
            if (v > 0) s.set(name, v);
        return s;
    }
    bool operator==(const Knobs& k) const {
        return vec == k.vec && vecs == k.vecs && other == k.other && grain == k.grain && chunks == k.chunks && order == k.order && cols == k.cols;
    }
};

// The knobs' tile where it is one the builder could have chosen (vec lanes dividing the channels,
// vecs dividing their vectors, 1..32 accumulators, exact where asked), the default otherwise.
inline Tile register_tile(const Knobs& k, int channels, int other_extent, bool exact = false) {
    Tile d = register_tile(channels, other_extent, exact);
    if (k.vec <= 0 || k.vecs <= 0 || k.other <= 0) return d;
    bool ok = (k.vec == 1 || k.vec == 4 || k.vec == 8 || k.vec == 16) && channels % k.vec == 0 && (channels / k.vec) % k.vecs == 0 &&
              k.vecs * k.other <= 32 && k.other <= other_extent && (!exact || other_extent % k.other == 0);
    return ok ? Tile{k.vec, k.vecs, k.other} : d;
}
// A knob that is a positive count at most `limit`, else `fallback`.
inline int knob_or(int value, int limit, int fallback) { return value > 0 && value <= limit ? value : fallback; }

// The vector registers of a target: AVX-512 has 32 of 16 floats; AVX/AVX2 16 of 8; SSE 16 of 4.
// A 16-lane vector of the default tiles takes two AVX2 registers, so a default tile of 24 of them
// needs 48 there and spills: the candidates for such a CPU are counted in its own registers.
struct VectorUnit {
    int lanes = 16, registers = 32;
};
inline VectorUnit vector_unit(const Halide::Target& t) {
    if (t.has_feature(Halide::Target::AVX512) || t.has_feature(Halide::Target::AVX512_Skylake) || t.has_feature(Halide::Target::AVX512_Cannonlake))
        return {16, 32};
    if (t.has_feature(Halide::Target::AVX) || t.has_feature(Halide::Target::AVX2)) return {8, 16};
    return {4, 16};
}

// The default tile for a target: the builders' default where the vectors are AVX-512's; elsewhere
// the same choice counted in the target's registers (AVX2: at most 12 accumulators of 8 floats),
// where the AVX-512-shaped default would spill. kernels/Tuning.h: fit_to_target applies it.
inline Tile default_tile(int channels, int other_extent, bool exact, VectorUnit unit) {
    if (unit.lanes >= 16 && unit.registers >= 32) return register_tile(channels, other_extent, exact);
    const int v = std::min(sched::vector_width(channels), std::max(1, unit.lanes));
    return best_tile(channels, other_extent, exact, std::max(2, kDefaultAccumulators * unit.registers / 32), v);
}

// Register tiles worth measuring, the target's default first: the best tile for several accumulator
// budgets, counted in the target's registers (fewer: AVX2, or a CPU that sustains fewer FMA
// chains), in vectors of its width, and, with `wide`, half-width vectors too. At most `n`, no two alike.
inline std::vector<Tile> tile_candidates(int channels, int other_extent, bool exact, size_t n, bool wide, VectorUnit unit = {}) {
    std::vector<Tile> out = {default_tile(channels, other_extent, exact, unit)};
    auto add = [&](Tile t) {
        for (const Tile& u : out)
            if (u == t) return;
        if (out.size() < n) out.push_back(t);
    };
    const int v = std::min(sched::vector_width(channels), std::max(1, unit.lanes));
    // Accumulator budgets for 32 registers; scaled to the target's (AVX2: 12, 16, 6, ...).
    for (int budget : {24, 12, 32, 6, 16, 20, 28, 8})
        add(best_tile(channels, other_extent, exact, std::max(2, budget * unit.registers / 32), v));
    const int full = std::max(2, kDefaultAccumulators * unit.registers / 32);  // the default's budget, in this target's registers
    if (wide && v >= 8)
        for (int budget : {full, full / 2})
            add(best_tile(channels, other_extent, exact, budget, v / 2));
    for (int vecs = 1; vecs <= 4; ++vecs)  // every vector count, at the default budget
        if ((channels / v) % vecs == 0) {
            Tile best{v, vecs, 1};
            double bs = -1;
            for (int o = 1; o <= std::min(other_extent, full / vecs); ++o) {
                if (exact && other_extent % o != 0) continue;
                Tile t{v, vecs, o};
                double sc = tile_score(t, other_extent, full);
                if (sc > bs) bs = sc, best = t;
            }
            add(best);
        }
    return out;
}

}  // namespace cnnc::engine
