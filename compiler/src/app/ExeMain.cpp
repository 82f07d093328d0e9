// The main of a `cnnc build` executable: the model file it carries, compiled again at startup (a
// few milliseconds), and the commands `cnnc` has for it — summary, train, evaluate, predict — run
// on the kernels linked in, in the variant this CPU supports best.
#include <CLI/CLI.hpp>
#include <HalideRuntime.h>
#include <fmt/format.h>
#include <xmmintrin.h>

#include <cstdlib>
#include <map>

#include "Error.h"
#include "app/Bundle.h"
#include "app/Commands.h"
#include "engine/Kernel.h"

namespace cnnc::app {

namespace {

// The first variant this CPU can run (CNNC_VARIANT=name forces one, e.g. to test a fallback).
int choose_variant(const Bundle& b) {
    const char* forced = std::getenv("CNNC_VARIANT");
    std::string names;
    for (int v = 0; v < b.n_variants; ++v) {
        names += (v ? ", " : "") + std::string(b.variant_names[v]);
        if (forced && *forced && std::string(forced) != b.variant_names[v]) continue;
        if (halide_can_use_target_features(b.feature_words, b.variant_features + v * b.feature_words)) return v;
        if (forced && *forced) throw rt::UserError(fmt::format("CNNC_VARIANT={}: this CPU cannot run it", forced));
    }
    if (forced && *forced) throw rt::UserError(fmt::format("CNNC_VARIANT={}: not in this executable (it has {})", forced, names));
    throw rt::UserError(fmt::format("this CPU cannot run any of the executable's variants ({}); rebuild with cnnc build --target", names));
}

// Kernels from the executable's table.
class LinkedKernels : public engine::KernelCache {
  public:
    LinkedKernels(const Bundle& b, int variant) : b_(b), variant_(variant) {}

  protected:
    const char* reused_from() const override { return "linked in"; }
    std::shared_ptr<engine::Kernel> make(const engine::KernelSpec& spec, bool& compiled) override {
        compiled = false;
        std::string key = spec.key();
        for (int k = 0; k < b_.n_kernels; ++k)
            if (key == b_.kernels[k].key) return std::make_shared<engine::NativeKernel>(b_.kernels[k].fns[variant_]);
        throw std::runtime_error("kernel " + key + " was not compiled into this executable");
    }

  private:
    const Bundle& b_;
    int variant_;
};

}  // namespace

int exe_main(int argc, char** argv, const Bundle& b) {
    _mm_setcsr(_mm_getcsr() | 0x8040);  // flush denormals to zero, as cnnc does (driver/main.cpp)
    if (b.format != kBundleFormat) {
        std::fprintf(stderr, "internal error: entry point format %d, libraries expect %d\n", b.format, kBundleFormat);
        return 3;
    }
    halide_set_custom_malloc(engine::cached_malloc);
    halide_set_custom_free(engine::cached_free);
    const std::string file = b.model_file;
    CLI::App app{fmt::format("{} (cnnc {} build of {})", std::string(argv[0]), b.cnnc_version, file)};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("cnnc ") + b.cnnc_version);
    SummaryFlags sf;
    auto* summary = app.add_subcommand("summary", "print the Keras-style summary table of each model");
    add_summary_flags(summary, sf);
    RunFlags rf;
    auto* train = app.add_subcommand("train", "execute the file's train and evaluate statements (as cnnc run)");
    add_train_flags(train, rf);
    auto* evaluate = app.add_subcommand("evaluate", "run the file's evaluate statements on trained weights");
    add_weights_flags(evaluate, rf);
    auto* predict = app.add_subcommand("predict", "classify image files");
    add_predict_args(predict, rf);
    auto* info = app.add_subcommand("info", "the model file, the kernels and the CPU variant this executable uses");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    try {
        std::map<std::string, std::string> sources;
        for (int i = 0; i < b.n_files; ++i) sources[b.files[i].path] = std::string(b.files[i].text, b.files[i].size);
        FrontendOptions fo;
        for (int i = 0; i < b.n_import_dirs; ++i) fo.import_dirs.push_back(b.import_dirs[i]);
        fo.embedded = &sources;
        fo.embedded_only = true;
        auto c = compile_file(file, fo);
        if (int rc = report(*c)) return rc;
        if (*summary) return print_summaries(*c, file, sf);
        int variant = choose_variant(b);
        if (*info) {
            fmt::print("model file: {}\nkernels: {}\nvariants: ", file, b.n_kernels);
            for (int v = 0; v < b.n_variants; ++v) fmt::print("{}{}{}", v ? ", " : "", b.variant_names[v], v == variant ? " (in use)" : "");
            fmt::print("\n");
            return 0;
        }
        engine::RunOptions ro = rf.resolve(argc, argv);
        LinkedKernels kernels(b, variant);
        if (*train) return engine::run_program(*c, file, ro, kernels);
        if (*evaluate) return engine::evaluate_program(*c, file, ro, kernels);
        return engine::predict_images(*c, file, ro, rf.model, rf.images, kernels);
    } catch (const rt::UserError& e) {
        fmt::print(stderr, "{}: error: {}\n", file, e.what());
        return 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "internal error: {}\nThis is a bug in cnnc, not in your file; please report it.\n", e.what());
        return 3;
    }
}

}  // namespace cnnc::app
