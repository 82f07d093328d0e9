// The cnnc command line. Exit codes: 0 success, 1 an error in the user's files, 2 a usage error,
// 3 an internal error (a bug in cnnc, reported as such).
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <xmmintrin.h>

#include <cstdio>
#include <unistd.h>

#include "Error.h"
#include "app/Commands.h"
#include "app/Dump.h"
#include "driver/Frontend.h"
#include "engine/KernelList.h"
#include "engine/Run.h"
#include "kernels/Aot.h"
#include "kernels/Executable.h"
#include "kernels/Jit.h"
#include "summary/Summary.h"

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

int cmd_layers(const std::string& only) {
    for (const LayerKind* k : all_layers()) {
        if (!only.empty() && k->name != only) continue;
        fmt::print("{}  {}\n", k->name, k->doc);
        if (only.empty()) continue;
        for (const auto& p : k->params) {
            std::string def = p.required ? "required" : "default " + to_string(p.default_value);
            fmt::print("    {:<22} {}{}\n", p.name, def, p.doc.empty() ? "" : "  — " + p.doc);
        }
    }
    if (!only.empty() && !find_layer(only)) {
        fmt::print(stderr, "cnnc: error: unknown layer '{}'{}\n", only, suggestion_suffix(only, layer_names()));
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Flush denormals to zero: tiny gradients late in training otherwise slow float math many
    // times over. Threads started later (Halide's pool) inherit the setting.
    _mm_setcsr(_mm_getcsr() | 0x8040);
    CLI::App app{"cnnc: a compiler for .cnn convolutional network files"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("cnnc ") + CNNC_VERSION);
    Common common;
    app.add_option("-I,--import-dir", common.import_dirs, "extra directory to search for imports");

    std::vector<std::string> check_files;
    auto* check = app.add_subcommand("check", "parse, resolve and shape-check; print diagnostics only");
    check->add_option("files", check_files, ".cnn files")->required();

    std::string file;
    app::SummaryFlags sf;
    auto* summary = app.add_subcommand("summary", "print the Keras-style summary table of each model");
    summary->add_option("file", file, ".cnn file")->required();
    app::add_summary_flags(summary, sf);

    // The kernels: the on-disk cache unless --no-cache (then JIT-compiled in memory, as the tests do).
    bool no_cache = false;
    auto cache_flag = [&](CLI::App* cmd) {
        cmd->add_flag("--no-cache", no_cache, "JIT-compile every kernel in memory; neither read nor write the kernel cache");
    };
    app::RunFlags rf;
    auto* run = app.add_subcommand("run", "compile the file's models and execute its train and evaluate statements");
    run->add_option("file", file, ".cnn file")->required();
    app::add_train_flags(run, rf);
    cache_flag(run);
    auto* evaluate = app.add_subcommand("evaluate", "run the file's evaluate statements on trained weights");
    evaluate->add_option("file", file, ".cnn file")->required();
    app::add_weights_flags(evaluate, rf);
    cache_flag(evaluate);
    auto* predict = app.add_subcommand("predict", "classify image files with a trained model");
    predict->add_option("file", file, ".cnn file")->required();
    app::add_predict_args(predict, rf);
    cache_flag(predict);

    engine::BuildOptions bo;
    auto* build = app.add_subcommand("build", "compile the file into a native executable (no compiler, LLVM or Halide needed to run it)");
    build->add_option("file", file, ".cnn file")->required();
    build->add_option("-o,--output", bo.output, "the executable (default: the file's name without .cnn)");
    build->add_option("--target", bo.targets,
                      "portable (default: this CPU, AVX2, SSE4.1, chosen at startup), host (this CPU only), or Halide target strings");

    app::DumpFlags df;
    auto* dump = app::add_dump_command(app, df);

    std::string layer_name;
    auto* layers = app.add_subcommand("layers", "list the layers the language knows, or one layer's arguments");
    layers->add_option("name", layer_name, "a layer name, e.g. Conv2D");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    try {
        if (*check) return cmd_check(check_files, common);
        if (*summary) {
            auto c = compile_file(file, common.options());
            if (int rc = app::report(*c)) return rc;
            return app::print_summaries(*c, file, sf);
        }
        if (*layers) return cmd_layers(layer_name);
        if (*dump) return app::dump(df, common.options());
        if (*run || *evaluate || *predict) {
            engine::RunOptions ro = rf.resolve(argc, argv);
            auto c = compile_file(file, common.options(*run ? DataPathCheck::Run : *evaluate ? DataPathCheck::Evaluate : DataPathCheck::None));
            if (int rc = app::report(*c)) return rc;
            std::unique_ptr<engine::KernelCache> kernels;
            if (no_cache) {
                kernels = std::make_unique<engine::JitKernels>();
            } else {
                auto disk = std::make_unique<engine::DiskKernels>();
                // What the run will ask for, compiled into the cache on every core first.
                engine::RecordingKernels rec;
                try {
                    engine::prepare_program(*c, file, rec);
                    disk->prefetch(rec.specs);
                } catch (const rt::UserError&) {
                    // the run itself reports it
                }
                kernels = std::move(disk);
            }
            if (*run) return engine::run_program(*c, file, ro, *kernels);
            if (*evaluate) return engine::evaluate_program(*c, file, ro, *kernels);
            return engine::predict_images(*c, file, ro, rf.model, rf.images, *kernels);
        }
        if (*build) {
            bo.import_dirs = common.options().import_dirs;
            return engine::build_executable(file, bo);
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "cnnc: internal error: {}\nThis is a bug in cnnc, not in your file; please report it.\n", e.what());
        return 3;
    }
    return 0;
}
