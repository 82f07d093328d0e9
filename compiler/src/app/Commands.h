// The flags and the reporting of the commands `cnnc` and a `cnnc build` executable share: train
// (`cnnc run`), evaluate, predict and summary. app/Cli.h adds these commands to both mains.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "frontend/Frontend.h"
#include "engine/Run.h"
#include "summary/Summary.h"

namespace cnnc::app {

struct RunFlags {
    engine::RunOptions options;
    int threads = 0;
    uint64_t seed = 0;
    int64_t epochs = 0;
    CLI::Option* seed_opt = nullptr;
    CLI::Option* epochs_opt = nullptr;
    std::string model;                 // predict --model
    std::vector<std::string> images;   // predict's arguments
    // The options as RunOptions, with the command line (argv) that resumes the run; sets
    // HL_NUM_THREADS (Halide's pool reads it at its first kernel).
    engine::RunOptions resolve(int argc, char** argv);
};

void add_train_flags(CLI::App* cmd, RunFlags& f);                // --threads --seed --epochs --output-dir --resume
void add_weights_flags(CLI::App* cmd, RunFlags& f);              // --weights (required), --threads
void add_predict_args(CLI::App* cmd, RunFlags& f);               // --weights, --model, IMAGE...

struct SummaryFlags {
    SummaryOptions options;
    std::string model;
    bool ascii = false, box = false;
    bool memory = false;  // --memory: the engine's planned buffer bytes per sample, after the table
};
void add_summary_flags(CLI::App* cmd, SummaryFlags& f);
// Prints each model's table (or just --model's); returns the exit code.
int print_summaries(const Compilation& c, const std::string& file, SummaryFlags& f);

// "no model named 'x'; did you mean 'y'?; the file's models: ..." to stderr.
void print_no_model(const Compilation& c, const std::string& file, const std::string& name);

// Diagnostics to stderr; returns 0 when the file is clean, else 1.
int report(const Compilation& c);

}  // namespace cnnc::app
