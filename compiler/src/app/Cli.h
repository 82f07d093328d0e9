// The command line of both mains, cnnc's (driver/main.cpp) and a `cnnc build` executable's
// (app/ExeMain.cpp): each registers its subcommands with the function that carries each out, and
// one parse-and-dispatch here gives both the same exit codes: 0 success, 1 an error in the user's
// files, 2 a usage error, 3 an internal error (a bug in cnnc, reported as such).
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "frontend/Frontend.h"
#include "kernel/Kernel.h"

namespace cnnc::app {

class Cli {
  public:
    Cli(const std::string& description, const std::string& version);
    CLI::App& app() { return app_; }
    // A subcommand, carried out by `run` when it is the one given; returns it for its arguments.
    CLI::App* command(const std::string& name, const std::string& help, std::function<int()> run);
    // Parses the command line and carries out its subcommand; returns the exit code.
    int run(int argc, char** argv);
    // The command line being run (a training run records it, to say how to resume).
    int argc() const { return argc_; }
    char** argv() const { return argv_; }

    // The model file the command works on, set by whoever knows it: a user error escaping a
    // command is reported against it.
    std::string file;

  private:
    CLI::App app_;
    std::vector<std::pair<CLI::App*, std::function<int()>>> commands_;
    int argc_ = 0;
    char** argv_ = nullptr;
};

// What the model commands run on, which each main provides: cnnc the file its command line names
// and kernels it compiles, an executable the file it carries and the kernels linked into it.
class Models {
  public:
    virtual ~Models() = default;
    // Adds the arguments that say which file (and kernels) to a model command; `kernels`: the
    // command runs kernels.
    virtual void add_args(CLI::App* cmd, bool kernels) = 0;
    virtual std::unique_ptr<Compilation> compile(DataPathCheck data_paths) = 0;
    virtual std::unique_ptr<engine::KernelCache> kernels(const Compilation& c) = 0;
};

// The model commands both mains have, with the same flags: summary, training (cnnc's `run`, an
// executable's `train`), evaluate and predict.
void add_model_commands(Cli& cli, Models& models, const std::string& train_name, const std::string& train_help);

}  // namespace cnnc::app
