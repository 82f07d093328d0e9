// The main of a `cnnc build` executable: the model file it carries, compiled again at startup (a
// few milliseconds), and the commands `cnnc` has for it — summary, train, evaluate, predict — run
// on the kernels linked in, in the variant this CPU supports best.
#include <CLI/CLI.hpp>
#include <HalideRuntime.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "Error.h"
#include "app/Bundle.h"
#include "app/Cli.h"
#include "kernel/ParallelFor.h"
#include "app/Commands.h"
#include "kernel/Kernel.h"

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

// The model commands run on the file the executable carries and the kernels linked into it.
class BundledModels : public Models {
  public:
    explicit BundledModels(const Bundle& b) : b_(b) {
        for (int i = 0; i < b.n_files; ++i) sources_[b.files[i].path] = std::string(b.files[i].text, b.files[i].size);
    }
    void add_args(CLI::App*, bool) override {}  // the file is the one built in
    // Compiled again at startup, from the bundled text only; data paths are checked when read.
    std::unique_ptr<Compilation> compile(DataPathCheck) override {
        FrontendOptions fo;
        for (int i = 0; i < b_.n_import_dirs; ++i) fo.import_dirs.push_back(b_.import_dirs[i]);
        fo.embedded = &sources_;
        fo.embedded_only = true;
        return compile_file(b_.model_file, fo);
    }
    std::unique_ptr<engine::KernelCache> kernels(const Compilation&) override {
        return std::make_unique<LinkedKernels>(b_, choose_variant(b_));
    }

  private:
    const Bundle& b_;
    std::map<std::string, std::string> sources_;
};

}  // namespace

int exe_main(int argc, char** argv, const Bundle& b) {
    if (b.format != kBundleFormat) {
        std::fprintf(stderr, "internal error: entry point format %d, libraries expect %d\n", b.format, kBundleFormat);
        return 3;
    }
    // An executable does not link MPI (docs/DISTRIBUTED.md): several copies under mpirun would each
    // train alone and overwrite each other's files.
    if (const char* ranks = std::getenv("OMPI_COMM_WORLD_SIZE"); ranks && std::string(ranks) != "1") {
        std::fprintf(stderr, "error: a `cnnc build` executable trains as one process; for data-parallel training run "
                             "`mpirun -np N cnnc run %s`\n", b.model_file);
        return 1;
    }
    halide_set_custom_malloc(engine::cached_malloc);
    halide_set_custom_free(engine::cached_free);
    halide_set_custom_do_par_for(engine::parallel_for);
    std::string program = argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "model";
    Cli cli(program, fmt::format("{}: the model file {}, built by cnnc {}", program, b.model_file, b.cnnc_version),
            std::string("cnnc ") + b.cnnc_version,
            {{"CNNC_VARIANT", "run this variant of the kernels (see the info command), e.g. to test a fallback"},
             {"HL_NUM_THREADS", "worker threads (--threads sets it; default: every core)"}});
    cli.file = b.model_file;
    BundledModels models(b);
    add_model_commands(cli, models, "train", "execute the file's train and evaluate statements (as cnnc run)");
    cli.command("info", "the model file, the kernels and the CPU variant this executable uses", [&] {
        auto c = models.compile(DataPathCheck::None);
        if (int rc = report(*c)) return rc;
        int variant = choose_variant(b);
        fmt::print("model file: {}\nkernels: {}\nvariants: ", cli.file, b.n_kernels);
        for (int v = 0; v < b.n_variants; ++v) fmt::print("{}{}{}", v ? ", " : "", b.variant_names[v], v == variant ? " (in use)" : "");
        fmt::print("\nschedules: {}\n", b.variant_schedules[variant]);
        return 0;
    });
    return cli.run(argc, argv);
}

}  // namespace cnnc::app
