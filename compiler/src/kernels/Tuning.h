// What the tuner (Tuner.h) measures for a kernel family: the shapes of a kernel's buffers at a
// batch size, its int arguments, and the schedules worth trying. A family that has schedules to
// choose from provides a `tune_<builder>` function beside its builder (layers/<family>/Kernels.cpp),
// listed in kernels/Builders.cpp; the others (elementwise, pooling: memory-bound, one schedule)
// are not tuned.
#pragma once
#include <optional>
#include <vector>

#include "kernels/Schedule.h"

namespace cnnc::engine {

enum class TuneLevel { Off, Quick, Full };

// What a search is for: the batch the kernels are timed at, how thorough it is, and the vector
// registers of the target the kernels are compiled for.
struct TuneRequest {
    int batch = 32;
    TuneLevel level = TuneLevel::Quick;
    VectorUnit unit;
};

struct TuneProblem {
    std::vector<std::vector<int>> inputs, outputs;  // each innermost first, as the kernel sees it
    std::vector<int> ints;
    // The target's default first: all zero (the builder's own) where that is the target's default
    // tile, else that tile's knobs (kernels/Schedule.h: default_tile).
    std::vector<Knobs> candidates;
    double flops = 0;               // per call at this batch, to skip kernels too small to matter
};

// The family's problem for `spec`, or nullopt when its family is not tuned (or q.level is Off).
std::optional<TuneProblem> tune_problem(const KernelSpec& spec, const TuneRequest& q);

// `spec` as it is compiled for `target`: where it names no register tile and the family's default
// tile does not fit the target's vector registers (AVX2's 16 of 8 floats, not AVX-512's 32 of
// 16), with the tile that does; unchanged otherwise. Every backend compiles through it, so an
// untuned kernel, a `--tune off` run and a `cnnc build` executable's portable variants get a tile
// made for their target.
KernelSpec fit_to_target(const KernelSpec& spec, const Halide::Target& target);

// Candidate knob sets for a register tile over `channels` × `other_extent` positions: the target's
// default tile (Knobs{} where it is the builder's), then others for q's target: 3 in all at Quick,
// up to 8 (half-width vectors too) at Full.
inline std::vector<Knobs> tile_knobs(int channels, int other_extent, bool exact, const TuneRequest& q) {
    std::vector<Knobs> out;
    const bool full = q.level == TuneLevel::Full;
    auto tiles = tile_candidates(channels, other_extent, exact, full ? 8 : 3, full, q.unit);
    for (size_t i = 0; i < tiles.size(); ++i) {
        Knobs k;
        if (i > 0 || !(tiles[0] == register_tile(channels, other_extent, exact)))
            k.vec = tiles[i].vec, k.vecs = tiles[i].vecs, k.other = tiles[i].other;
        out.push_back(k);
    }
    return out;
}

}  // namespace cnnc::engine
