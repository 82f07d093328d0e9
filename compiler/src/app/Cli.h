// The command line of both mains, cnnc's (driver/main.cpp) and a `cnnc build` executable's
// (app/ExeMain.cpp): each registers its subcommands with the function that carries each out, and
// one parse-and-dispatch here gives both the same exit codes (kExitCodes), the same `help [command]`,
// did-you-mean for commands and options, options accepted anywhere on the line, the man page
// (`help --man`, app/Manual.cpp) and shell completion (app/Complete.cpp), all read off the one
// CLI11 definition so that none of them can disagree with --help.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "frontend/Frontend.h"
#include "kernel/Kernel.h"

namespace cnnc::app {

// An environment variable a main reads: listed by --help and the man page.
struct EnvVar {
    std::string name, meaning;
};

// The exit codes, for --help's footer and the man page.
extern const char* const kExitCodes;

class Cli {
  public:
    Cli(const std::string& program, const std::string& description, const std::string& version, std::vector<EnvVar> env);
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

    // What the shell may complete an option's value or a positional argument with, given the
    // model file on the line (or the built-in one): `cnnc summary f.cnn --model <TAB>`.
    using Candidates = std::function<std::vector<std::string>(const std::string& file)>;
    void candidates(const CLI::Option* opt, Candidates c) { candidates_[opt] = std::move(c); }
    // The completions of the last of `words` (the command line after the program's name).
    std::vector<std::string> complete(const std::vector<std::string>& words) const;  // app/Complete.cpp
    // The man page, in roff, from the same commands, options and texts as --help.
    std::string manual() const;  // app/Manual.cpp
    const std::string& program() const { return program_; }
    // The commands a user sees (help, the man page, completion, did-you-mean): all but hidden ones.
    std::vector<const CLI::App*> commands() const;
    const std::vector<EnvVar>& environment() const { return env_; }

  private:
    int usage_error(const CLI::ParseError& e, int argc, char** argv);
    void add_own_commands();

    std::string program_, version_;
    CLI::App app_;
    std::vector<EnvVar> env_;
    std::vector<std::pair<CLI::App*, std::function<int()>>> commands_;
    std::map<const CLI::Option*, Candidates> candidates_;
    std::vector<std::string> help_topic_, complete_words_;
    bool man_ = false;
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

// What --model completes with: the models of the file on the line.
Cli::Candidates model_names(Cli& cli, Models& models);

}  // namespace cnnc::app
