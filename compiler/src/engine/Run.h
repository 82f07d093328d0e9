// `cnnc run`: executes a checked file's train and evaluate statements in order.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "driver/Frontend.h"

namespace cnnc::engine {

struct RunOptions {
    std::optional<uint64_t> seed;     // --seed: overrides every train statement's seed
    std::optional<int64_t> epochs;    // --epochs
    std::string output_dir = ".";     // history CSVs
    bool interactive = false;         // progress lines redrawn in place
    bool resume = false;              // --resume: continue interrupted training from its saved state
};

// Returns the process exit code (0, or 1 after printing a user error).
int run_program(const Compilation& c, const std::string& file, const RunOptions& o);

}  // namespace cnnc::engine
