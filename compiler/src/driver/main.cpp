// The cnnc command line: its own commands (check, graph, build, dump, layers, list) and the model commands it shares
// with built executables (app/Cli.h), on kernels it compiles.
#include <fmt/format.h>

#include <cstdio>

#include "Error.h"
#include "app/Catalog.h"
#include "app/Cli.h"
#include "app/Commands.h"
#include "app/Dump.h"
#include "app/Graph.h"
#include "driver/Executable.h"
#include "driver/Tune.h"
#include "engine/KernelList.h"
#include "engine/Run.h"
#include "frontend/Frontend.h"
#include "kernels/Aot.h"
#include "kernels/Jit.h"
#include "mpi/Launch.h"
#include "train/Interrupt.h"

using namespace cnnc;

namespace {

struct Common {
    std::vector<std::string> import_dirs;
    FrontendOptions options(DataPathCheck data_paths = DataPathCheck::None) const {
        FrontendOptions o;
        o.data_paths = data_paths;
        o.import_dirs = import_dirs;
        for (auto& d : default_import_dirs()) o.import_dirs.push_back(d);
        return o;
    }
};

int cmd_check(const std::vector<std::string>& files, const Common& common) {
    int rc = 0;
    for (const auto& f : files) {
        auto c = compile_file(f, common.options(DataPathCheck::Run));
        rc = std::max(rc, app::report(*c));
    }
    return rc;
}

// The model commands run on the file named on the command line, with kernels compiled into the
// on-disk cache, or in memory with --no-cache (as the tests do).
class CompiledModels : public app::Models {
  public:
    CompiledModels(app::Cli& cli, const Common& common) : cli_(cli), common_(common) {}
    void add_args(CLI::App* cmd, bool kernels) override {
        cmd->add_option("file", cli_.file, ".cnn file")->required();
        if (kernels) {
            cmd->add_flag("--no-cache", no_cache_, "JIT-compile every kernel in memory; neither read nor write the kernel cache (nor tune)");
            cmd->add_option("--tune", tune_,
                            "choose kernel schedules by measuring them on this CPU the first time: off (the defaults), quick (the default: 3 "
                            "schedules a kernel), full (up to 11); the choices are kept in the kernel cache")
                ->check(CLI::IsMember({"off", "quick", "full"}));
        }
    }
    std::unique_ptr<Compilation> compile(DataPathCheck data_paths) override {
        return compile_file(cli_.file, common_.options(data_paths));
    }
    std::unique_ptr<engine::KernelCache> kernels(const Compilation& c) override {
        if (no_cache_) return std::make_unique<engine::JitKernels>();
        engine::TuneLevel level;
        try {
            level = driver::tune_level(tune_);
        } catch (const std::invalid_argument& e) {
            throw rt::UserError(e.what());
        }
        auto disk = std::make_unique<engine::DiskKernels>();
        // What the run will ask for, with the schedules chosen for this CPU, compiled into the
        // cache on every core first.
        engine::RecordingKernels rec;
        try {
            rt::ExitOnInterrupt compiling(cli_.file);
            engine::prepare_program(c, cli_.file, rec);
            engine::TuneReport report;
            auto chosen = driver::tune_for(c, rec.specs, level, report);
            std::vector<engine::KernelSpec> scheduled;
            for (const auto& s : rec.specs) {
                auto it = chosen.find(s.key());
                scheduled.push_back(it == chosen.end() ? s : it->second);
            }
            disk->use_schedules(std::move(chosen));
            disk->prefetch(scheduled);
        } catch (const rt::UserError&) {
            // the run itself reports it
        }
        return disk;
    }

  private:
    app::Cli& cli_;
    const Common& common_;
    bool no_cache_ = false;
    std::string tune_;
};

}  // namespace

int main(int argc, char** argv) {
    rt::MpiLaunch mpi;  // a rank of a data-parallel run when mpirun started it; else nothing
    app::Cli cli("cnnc", "cnnc: a compiler for .cnn convolutional network files", std::string("cnnc ") + CNNC_VERSION,
                 {{"CNNC_CACHE_DIR", "where compiled kernels are kept (default: $XDG_CACHE_HOME/cnnc, else ~/.cache/cnnc)"},
                  {"CNNC_STDLIB", "a directory searched for imports before the installed standard library"},
                  {"CNNC_PROFILE", "when set, print each kernel's total time after a run"},
                  {"CNNC_TUNE", "off, quick (default) or full: how kernel schedules are chosen on this CPU, as --tune"},
                  {"HL_NUM_THREADS", "worker threads (--threads sets it; default: every core)"}});
    Common common;
    // One directory per -I, so that `check -I lib f.cnn` does not read f.cnn as a second directory.
    cli.app().add_option("-I,--import-dir", common.import_dirs, "extra directory to search for imports (repeatable)")->allow_extra_args(false);

    std::vector<std::string> check_files;
    auto* check = cli.command("check", "parse, resolve and shape-check; print diagnostics only", [&] { return cmd_check(check_files, common); });
    check->add_option("files", check_files, ".cnn files")->required();

    CompiledModels models(cli, common);
    app::add_model_commands(cli, models, "run", "compile the file's models and execute its train and evaluate statements");
    app::add_graph_command(cli, models);

    engine::BuildOptions bo;
    auto* build = cli.command("build", "compile the file into a native executable (no compiler, LLVM or Halide needed to run it)", [&] {
        bo.import_dirs = common.options().import_dirs;
        return engine::build_executable(cli.file, bo);
    });
    build->add_option("file", cli.file, ".cnn file")->required();
    build->add_option("-o,--output", bo.output, "the executable (default: the file's name without .cnn)");
    auto* target = build->add_option("--target", bo.targets,
                      "portable (default: this CPU, AVX2, SSE4.1, chosen at startup), host (this CPU only), or Halide target strings");
    target->allow_extra_args(false);
    build->add_option("--tune", bo.tune, "the host variant's kernel schedules: off (the defaults), quick (default) or full, measured on this CPU")
        ->check(CLI::IsMember({"off", "quick", "full"}));
    cli.candidates(target, [](const std::string&) { return std::vector<std::string>{"portable", "host"}; });

    app::DumpFlags df;
    auto* dump = cli.command("dump", "print one stage: the syntax tree, the checked program, or the kernels a run compiles",
                             [&] { return app::dump(df, common.options()); });
    app::add_dump_args(cli, dump, df);

    std::string entry;
    auto* layers = cli.command("layers", "list the layers, or show any builtin's arguments and defaults (a layer, an optimizer, a callback...)",
                               [&] { return entry.empty() ? app::print_kind("layers") : app::print_entry(entry); });
    cli.candidates(layers->add_option("name", entry, "a layer or other builtin, e.g. Conv2D or EarlyStopping"),
                   [](const std::string&) { return app::catalog_names(); });

    std::string kind;
    auto* list = cli.command("list", "list the entries of one kind with their arguments and defaults", [&] { return app::print_kind(kind); });
    cli.candidates(list->add_option("kind", kind, fmt::format("{}", fmt::join(app::catalog_kinds(), ", ")))->required(),
                   [](const std::string&) { return app::catalog_kinds(); });

    return mpi.finish(cli.run(argc, argv));
}
