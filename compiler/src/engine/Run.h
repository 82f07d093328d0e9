// `cnnc run`: executes a checked file's train and evaluate statements in order.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "frontend/Frontend.h"
#include "kernel/Kernel.h"

namespace cnnc::engine {

struct RunOptions {
    std::optional<uint64_t> seed;     // --seed: overrides every train statement's seed
    std::optional<int64_t> epochs;    // --epochs
    std::string output_dir = ".";     // history CSVs
    bool interactive = false;         // progress lines redrawn in place
    bool resume = false;              // --resume: continue interrupted training from its saved state
    std::string weights;              // evaluate/predict: the weights file to load
    std::string resume_command;       // the command line that continues this run (said after Ctrl-C)
};

// Every train statement in file order (each model's weights then saved atomically as
// <output_dir>/<model>.weights.h5), then every evaluate statement. Returns the process exit code
// (0, or 1 after printing a user error).
int run_program(const Compilation& c, const std::string& file, const RunOptions& o, KernelCache& kernels);
// The file's evaluate statements on o.weights, without training.
int evaluate_program(const Compilation& c, const std::string& file, const RunOptions& o, KernelCache& kernels);
// Classifies image files with `model` (default: the model the file trains) and o.weights: the
// images are decoded, resized and rescaled as the training data is, and each gets a line with
// its class and the probabilities.
int predict_images(const Compilation& c, const std::string& file, const RunOptions& o, const std::string& model,
                   const std::vector<std::string>& images, KernelCache& kernels);
// Builds every network and prepares its training as run_program would, running nothing and
// reading no data: afterwards `kernels` has been asked for every kernel any command of the file
// can use (how `cnnc build` lists what to compile). Throws rt::UserError.
void prepare_program(const Compilation& c, const std::string& file, KernelCache& kernels);

}  // namespace cnnc::engine
