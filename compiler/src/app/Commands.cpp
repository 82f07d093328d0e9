#include "app/Commands.h"

#include "engine/Build.h"
#include "engine/KernelList.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace cnnc::app {

// argv as a shell reads it back: each word in single quotes unless it is plainly safe.
static std::string shell_words(int argc, char** argv) {
    std::string out;
    for (int i = 0; i < argc; ++i) {
        std::string w = argv[i];
        bool plain = !w.empty() && w.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+=./,:@%") == std::string::npos;
        if (!plain) {
            std::string q = "'";
            for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
            w = q + "'";
        }
        out += (i ? " " : "") + w;
    }
    return out;
}

engine::RunOptions RunFlags::resolve(int argc, char** argv) {
    engine::RunOptions o = options;
    o.resume_command = shell_words(argc, argv);
    if (!o.resume) o.resume_command += " --resume";
    if (seed_opt && *seed_opt) o.seed = seed;
    if (epochs_opt && *epochs_opt) o.epochs = epochs;
    o.interactive = isatty(fileno(stdout));
    if (threads > 0) setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 1);
    return o;
}

static void add_threads(CLI::App* cmd, RunFlags& f) {
    cmd->add_option("--threads", f.threads, "worker threads (default: all cores)")->check(CLI::Range(1, 1024));
}

void add_train_flags(CLI::App* cmd, RunFlags& f) {
    add_threads(cmd, f);
    f.seed_opt = cmd->add_option("--seed", f.seed, "seed for initialization, shuffling and dropout");
    f.epochs_opt = cmd->add_option("--epochs", f.epochs, "override every train statement's epochs")->check(CLI::Range(1, 1000000));
    cmd->add_option("--output-dir", f.options.output_dir, "where weights, history CSVs, plots and the training state go (default: .)");
    cmd->add_flag("--resume", f.options.resume, "continue an interrupted training run from its saved state");
}

void add_weights_flags(CLI::App* cmd, RunFlags& f) {
    add_threads(cmd, f);
    cmd->add_option("--weights", f.options.weights, "weights file (.weights.h5 or .h5, as training saves it)")->required();
}

void add_predict_args(CLI::App* cmd, RunFlags& f) {
    add_weights_flags(cmd, f);
    cmd->add_option("-m,--model", f.model, "the model (default: the one the file trains)");
    // The format is read from each file's first bytes (runtime/data/ImageFolder.h), not its name.
    cmd->add_option("images", f.images, "image files: JPEG, PNG, BMP, GIF, PGM or PPM (binary), whatever their names")->required();
}

void add_summary_flags(CLI::App* cmd, SummaryFlags& f) {
    cmd->add_option("-m,--model", f.model, "only this model");
    cmd->add_flag("--expand", f.options.expand, "show the layers inside blocks");
    cmd->add_flag("--flops", f.options.flops, "add a per-layer FLOPs column");
    cmd->add_flag("--ascii", f.ascii, "ASCII rules instead of box-drawing characters");
    cmd->add_flag("--box", f.box, "box-drawing characters even when the locale is not UTF-8");
    cmd->add_flag("--memory", f.memory, "the activation (and training gradient) memory per sample: planned by liveness, and the naive sum");
}

// What the engine would allocate per sample, from the network it builds (RecordingKernels: the
// ops are made, no kernel is compiled), so these figures are the runtime's plan, not an estimate.
static std::string memory_lines(const Model& m) {
    if (!m.shaped) return " Memory per sample: ? (the model has shape errors)\n";
    engine::RecordingKernels cache;
    auto net = engine::build_network(m, cache, 1);
    rt::Network::Memory inf = net->memory(false), tr = net->memory(true);
    auto ratio = [](const rt::Network::Memory& x) { return x.naive() ? 100.0 * double(x.planned) / double(x.naive()) : 100.0; };
    return fmt::format(" Inference memory per sample: {} planned, {} naive (activations; {:.0f}%)\n"
                       " Training memory per sample: {} planned, {} naive (activations {} + gradients {}; {:.0f}%)\n",
                       memory_size(double(inf.planned)), memory_size(double(inf.naive())), ratio(inf), memory_size(double(tr.planned)),
                       memory_size(double(tr.naive())), memory_size(double(tr.activations)), memory_size(double(tr.gradients)), ratio(tr));
}

int report(const Compilation& c) {
    std::string text = c.diags.render();
    if (!text.empty()) std::fputs(text.c_str(), stderr);
    return c.ok() ? 0 : 1;
}

int print_summaries(const Compilation& c, const std::string& file, SummaryFlags& f) {
    // Box glyphs need a UTF-8 terminal or file; fall back to ASCII for a plain C locale.
    f.options.ascii = f.ascii || (!f.box && !locale_is_utf8());
    bool any = false;
    for (const auto& m : c.program.models) {
        if (!f.model.empty() && m.name != f.model) continue;
        if (any) std::fputs("\n", stdout);
        std::fputs(render_summary(m, f.options).c_str(), stdout);
        if (f.memory) std::fputs(memory_lines(m).c_str(), stdout);
        any = true;
    }
    if (any) return 0;
    if (f.model.empty())
        fmt::print(stderr, "{}: error: no models in this file\n", file);
    else
        print_no_model(c, file, f.model);
    return 1;
}

void print_no_model(const Compilation& c, const std::string& file, const std::string& name) {
    std::vector<std::string> names;
    for (const auto& m : c.program.models) names.push_back(m.name);
    fmt::print(stderr, "{}: error: no model named '{}'{}; the file's models: {}\n", file, name, suggestion_suffix(name, names), fmt::join(names, ", "));
}

}  // namespace cnnc::app
