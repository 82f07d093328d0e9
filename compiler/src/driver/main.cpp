// The cnnc command line. Exit codes: 0 success, 1 an error in the user's files, 2 a usage error,
// 3 an internal error (a bug in cnnc, reported as such).
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <xmmintrin.h>

#include <cstdio>
#include <unistd.h>

#include "driver/Frontend.h"
#include "engine/Run.h"
#include "kernels/Jit.h"
#include "summary/Summary.h"

using namespace cnnc;

namespace {

struct Common {
    std::vector<std::string> import_dirs;
    FrontendOptions options() const {
        FrontendOptions o;
        o.import_dirs = import_dirs;
        for (auto& d : default_import_dirs()) o.import_dirs.push_back(d);
        return o;
    }
};

int report(const Compilation& c) {
    std::string text = c.diags.render();
    if (!text.empty()) std::fputs(text.c_str(), stderr);
    return c.ok() ? 0 : 1;
}

int cmd_check(const std::vector<std::string>& files, const Common& common) {
    int rc = 0;
    for (const auto& f : files) {
        auto c = compile_file(f, common.options());
        rc = std::max(rc, report(*c));
    }
    return rc;
}

int cmd_summary(const std::string& file, const std::string& model, const SummaryOptions& so, const Common& common) {
    auto c = compile_file(file, common.options());
    int rc = report(*c);
    if (rc != 0) return rc;
    bool any = false;
    for (const auto& m : c->program.models) {
        if (!model.empty() && m.name != model) continue;
        if (any) std::fputs("\n", stdout);
        std::fputs(render_summary(m, so).c_str(), stdout);
        any = true;
    }
    if (!any) {
        if (model.empty()) {
            fmt::print(stderr, "{}: error: no models in this file\n", file);
        } else {
            std::vector<std::string> names;
            for (const auto& m : c->program.models) names.push_back(m.name);
            fmt::print(stderr, "{}: error: no model named '{}'{}\n", file, model, suggestion_suffix(model, names));
        }
        return 1;
    }
    return 0;
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

    std::string summary_file, summary_model;
    SummaryOptions so;
    bool force_ascii = false, force_box = false;
    auto* summary = app.add_subcommand("summary", "print the Keras-style summary table of each model");
    summary->add_option("file", summary_file, ".cnn file")->required();
    summary->add_option("-m,--model", summary_model, "only this model");
    summary->add_flag("--expand", so.expand, "show the layers inside blocks");
    summary->add_flag("--flops", so.flops, "add a per-layer FLOPs column");
    summary->add_flag("--ascii", force_ascii, "ASCII rules instead of box-drawing characters");
    summary->add_flag("--box", force_box, "box-drawing characters even when the locale is not UTF-8");

    std::string run_file;
    engine::RunOptions ro;
    int threads = 0;
    uint64_t seed = 0;
    int64_t epochs = 0;
    auto* run = app.add_subcommand("run", "JIT-compile the file's models and execute its train and evaluate statements");
    run->add_option("file", run_file, ".cnn file")->required();
    run->add_option("--threads", threads, "worker threads (default: all cores)")->check(CLI::Range(1, 1024));
    auto* seed_opt = run->add_option("--seed", seed, "seed for initialization, shuffling and dropout");
    auto* epochs_opt = run->add_option("--epochs", epochs, "override every train statement's epochs")->check(CLI::Range(1, 1000000));
    run->add_option("--output-dir", ro.output_dir, "where history CSVs, plots and the training state go (default: .)");
    run->add_flag("--resume", ro.resume, "continue an interrupted training run from its saved state");

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
            so.ascii = force_ascii;
            if (!force_ascii && !force_box) {
                // Box glyphs need a UTF-8 terminal or file; fall back to ASCII for a plain C locale.
                const char* lang = std::getenv("LC_ALL");
                if (!lang || !*lang) lang = std::getenv("LC_CTYPE");
                if (!lang || !*lang) lang = std::getenv("LANG");
                std::string l = lang ? lang : "";
                so.ascii = !l.empty() && l != "C.UTF-8" && l.find("UTF-8") == std::string::npos &&
                           l.find("utf8") == std::string::npos && l.find("UTF8") == std::string::npos &&
                           l.find("utf-8") == std::string::npos;
            }
            return cmd_summary(summary_file, summary_model, so, common);
        }
        if (*layers) return cmd_layers(layer_name);
        if (*run) {
            if (*seed_opt) ro.seed = seed;
            if (*epochs_opt) ro.epochs = epochs;
            ro.interactive = isatty(fileno(stdout));
            // Halide's thread pool reads this when it starts, i.e. at the first kernel.
            if (threads > 0) setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 1);
            auto c = compile_file(run_file, common.options());
            int rc = report(*c);
            if (rc != 0) return rc;
            engine::JitKernels kernels;
            return engine::run_program(*c, run_file, ro, kernels);
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "cnnc: internal error: {}\nThis is a bug in cnnc, not in your file; please report it.\n", e.what());
        return 3;
    }
    return 0;
}
