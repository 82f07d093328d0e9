#include "app/Cli.h"

#include <fmt/format.h>
#include <xmmintrin.h>

#include <cstdio>

#include "Error.h"
#include "app/Commands.h"
#include "engine/Run.h"

namespace cnnc::app {

Cli::Cli(const std::string& description, const std::string& version) : app_(description) {
    app_.require_subcommand(1);
    app_.set_version_flag("--version", version);
}

CLI::App* Cli::command(const std::string& name, const std::string& help, std::function<int()> run) {
    CLI::App* cmd = app_.add_subcommand(name, help);
    commands_.emplace_back(cmd, std::move(run));
    return cmd;
}

int Cli::run(int argc, char** argv) {
    // Flush denormals to zero: tiny gradients late in training otherwise slow float math many
    // times over. Threads started later (Halide's pool) inherit the setting.
    _mm_setcsr(_mm_getcsr() | 0x8040);
    argc_ = argc;
    argv_ = argv;
    try {
        app_.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app_.exit(e);
        return rc == 0 ? 0 : 2;
    }
    try {
        for (auto& [cmd, run] : commands_)
            if (*cmd) return run();
    } catch (const rt::UserError& e) {
        fmt::print(stderr, "{}: error: {}\n", file, e.what());
        return 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "cnnc: internal error: {}\nThis is a bug in cnnc, not in your file; please report it.\n", e.what());
        return 3;
    }
    return 0;
}

void add_model_commands(Cli& cli, Models& models, const std::string& train_name, const std::string& train_help) {
    auto sf = std::make_shared<SummaryFlags>();
    auto* summary = cli.command("summary", "print the Keras-style summary table of each model", [&cli, &models, sf] {
        auto c = models.compile(DataPathCheck::None);
        if (int rc = report(*c)) return rc;
        return print_summaries(*c, cli.file, *sf);
    });
    models.add_args(summary, false);
    add_summary_flags(summary, *sf);

    // Training, evaluating and predicting: the checked file run on the main's kernels.
    enum class Run { Train, Evaluate, Predict };
    auto rf = std::make_shared<RunFlags>();
    auto runs = [&cli, &models, rf](Run what, DataPathCheck data_paths) {
        return [&cli, &models, rf, what, data_paths] {
            engine::RunOptions ro = rf->resolve(cli.argc(), cli.argv());
            auto c = models.compile(data_paths);
            if (int rc = report(*c)) return rc;
            std::unique_ptr<engine::KernelCache> kernels = models.kernels(*c);
            if (what == Run::Train) return engine::run_program(*c, cli.file, ro, *kernels);
            if (what == Run::Evaluate) return engine::evaluate_program(*c, cli.file, ro, *kernels);
            return engine::predict_images(*c, cli.file, ro, rf->model, rf->images, *kernels);
        };
    };
    auto* train = cli.command(train_name, train_help, runs(Run::Train, DataPathCheck::Run));
    models.add_args(train, true);
    add_train_flags(train, *rf);
    auto* evaluate = cli.command("evaluate", "run the file's evaluate statements on trained weights", runs(Run::Evaluate, DataPathCheck::Evaluate));
    models.add_args(evaluate, true);
    add_weights_flags(evaluate, *rf);
    auto* predict = cli.command("predict", "classify image files with a trained model", runs(Run::Predict, DataPathCheck::None));
    models.add_args(predict, true);
    add_predict_args(predict, *rf);
}

}  // namespace cnnc::app
