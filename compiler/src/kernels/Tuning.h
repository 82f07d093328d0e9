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

struct TuneProblem {
    std::vector<std::vector<int>> inputs, outputs;  // each innermost first, as the kernel sees it
    std::vector<int> ints;
    std::vector<Knobs> candidates;  // the default (all zero) first
    double flops = 0;               // per call at this batch, to skip kernels too small to matter
};

// The family's problem for `spec` at `batch`, or nullopt when its family is not tuned.
std::optional<TuneProblem> tune_problem(const KernelSpec& spec, int batch, TuneLevel level);

// Candidate knob sets for a register tile over `channels` × `other_extent` positions: the default
// tile (as Knobs{}), then others: 3 in all at Quick, up to 8 (half-width vectors too) at Full.
inline std::vector<Knobs> tile_knobs(int channels, int other_extent, bool exact, TuneLevel level) {
    std::vector<Knobs> out;
    auto tiles = tile_candidates(channels, other_extent, exact, level == TuneLevel::Full ? 8 : 3, level == TuneLevel::Full);
    for (size_t i = 0; i < tiles.size(); ++i) {
        Knobs k;
        if (i > 0) k.vec = tiles[i].vec, k.vecs = tiles[i].vecs, k.other = tiles[i].other;
        out.push_back(k);
    }
    return out;
}

}  // namespace cnnc::engine
