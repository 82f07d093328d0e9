#include "app/Cli.h"

#include <fmt/format.h>
#include <xmmintrin.h>

#include <cstdio>

#include "Error.h"
#include "app/Commands.h"
#include "diag/Diagnostics.h"
#include "engine/DataReport.h"
#include "engine/Run.h"

namespace cnnc::app {

const char* const kExitCodes =
    "0 success; 1 an error in the model file, its data or its weights (reported with its location); "
    "2 a usage error on the command line; 3 an internal error (a bug in cnnc, reported as such); "
    "130 or 143 training stopped by SIGINT or SIGTERM after saving its state (continue with --resume), "
    "or a run stopped by one while compiling kernels";

Cli::Cli(const std::string& program, const std::string& description, const std::string& version, std::vector<EnvVar> env)
    : program_(program), version_(version), app_(description, program), env_(std::move(env)) {
    app_.require_subcommand(1);
    app_.set_version_flag("--version", version);
    // Options of the whole program (-I) may come after the command and its file too: the command
    // hands what it does not know up to the program (CLI11's fallthrough, inherited by commands).
    app_.fallthrough();
    app_.footer([this] {
        std::string f = "Exit status: " + std::string(kExitCodes) + ".\n\nEnvironment:\n";
        for (const auto& e : env_) f += fmt::format("  {:<20}{}\n", e.name, e.meaning);
        return f + fmt::format("\nRun '{} help COMMAND' for a command's options.", program_);
    });
}

std::vector<const CLI::App*> Cli::commands() const {
    return app_.get_subcommands([](const CLI::App* c) { return !c->get_group().empty(); });  // hidden: group ""
}

static std::vector<std::string> names_of(const std::vector<const CLI::App*>& commands) {
    std::vector<std::string> names;
    for (const CLI::App* c : commands) names.push_back(c->get_name());
    return names;
}

CLI::App* Cli::command(const std::string& name, const std::string& help, std::function<int()> run) {
    CLI::App* cmd = app_.add_subcommand(name, help);
    commands_.emplace_back(cmd, std::move(run));
    return cmd;
}

// `help [COMMAND]` and `help --man` for people, and the hidden `__complete WORDS...` the bash
// completion script (scripts/cnnc.bash-completion) calls.
void Cli::add_own_commands() {
    auto* help = command("help", "show the commands, or one command's options (--man: the manual page)", [this] {
        if (man_) {
            std::fputs(manual().c_str(), stdout);
            return 0;
        }
        if (help_topic_.empty()) {
            // Not app_.help(): with a command parsed (this one), CLI11 describes that command.
            std::fputs(app_.get_formatter()->make_help(&app_, program_, CLI::AppFormatMode::Normal).c_str(), stdout);
            return 0;
        }
        for (const CLI::App* c : commands())
            if (c->get_name() == help_topic_[0]) {
                std::fputs(c->help(program_).c_str(), stdout);
                return 0;
            }
        fmt::print(stderr, "{}: error: no command '{}'{}\n", program_, help_topic_[0], suggestion_suffix(help_topic_[0], names_of(commands())));
        return 2;
    });
    candidates(help->add_option("command", help_topic_, "the command to describe")->expected(0, 1),
               [this](const std::string&) { return names_of(commands()); });
    help->add_flag("--man", man_, "print the manual page (roff) instead");

    auto* complete = command("__complete", "", [this] {
        for (const auto& w : this->complete(complete_words_)) fmt::print("{}\n", w);
        return 0;
    });
    complete->group("");  // not listed
    complete->add_option("words", complete_words_);
}

int Cli::run(int argc, char** argv) {
    // Flush denormals to zero: tiny gradients late in training otherwise slow float math many
    // times over. Threads started later (Halide's pool) inherit the setting.
    _mm_setcsr(_mm_getcsr() | 0x8040);
    argc_ = argc;
    argv_ = argv;
    add_own_commands();
    try {
        app_.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app_.exit(e);  // --help, --version
        return usage_error(e, argc, argv);
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

namespace {

std::vector<std::string> option_names(const CLI::App& app) {
    std::vector<std::string> out;
    for (const CLI::Option* o : app.get_options()) {
        for (const auto& n : o->get_lnames()) out.push_back("--" + n);
        for (const auto& n : o->get_snames()) out.push_back("-" + n);
    }
    return out;
}

}  // namespace

// One line that says what was wrong, a did-you-mean where a name was mistyped, and where to look:
// CLI11's own messages do not name the program and never suggest.
int Cli::usage_error(const CLI::ParseError& e, int argc, char** argv) {
    std::vector<CLI::App*> parsed = app_.get_subcommands();
    CLI::App* cmd = parsed.empty() ? nullptr : parsed.front();
    std::string msg = e.what();
    if (!cmd) {
        // The first word that is neither an option nor an option's value was meant as the command.
        std::string word;
        for (int i = 1; i < argc && word.empty(); ++i) {
            std::string w = argv[i];
            if (w.size() > 1 && w[0] == '-') {
                for (const CLI::Option* o : app_.get_options())
                    if (o->get_expected_min() > 0 && o->check_name(w)) ++i;  // skip its value
                continue;
            }
            word = w;
        }
        msg = word.empty() ? "no command given" : fmt::format("unknown command '{}'{}", word, suggestion_suffix(word, names_of(commands())));
    } else if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
        std::vector<std::string> extras = app_.remaining(true);
        if (!extras.empty()) {
            const std::string& w = extras.front();
            if (w.size() > 1 && w[0] == '-') {
                std::vector<std::string> names = option_names(*cmd);
                for (auto& n : option_names(app_)) names.push_back(n);
                std::string bare = w.substr(0, w.find('='));
                msg = fmt::format("unknown option '{}' for '{}'{}", bare, cmd->get_name(), suggestion_suffix(bare, names));
            } else {
                msg = fmt::format("unexpected argument '{}' for '{}'", w, cmd->get_name());
            }
        }
    }
    fmt::print(stderr, "{}: error: {}\nRun '{} help{}' for {}.\n", program_, msg, program_, cmd ? " " + cmd->get_name() : "",
               cmd ? "its options" : "the commands");
    return 2;
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

    auto dataset = std::make_shared<std::string>();
    auto* data = cli.command("data", "describe each dataset member: samples, classes and counts, shapes, decode speed, corrupt images",
                             [&cli, &models, dataset] {
                                 auto c = models.compile(DataPathCheck::None);
                                 if (int rc = report(*c)) return rc;
                                 return engine::describe_data(*c, cli.file, *dataset);
                             });
    models.add_args(data, false);
    data->add_option("--dataset", *dataset, "only this dataset's members");

    for (CLI::App* cmd : {summary, predict}) cli.candidates(cmd->get_option("--model"), model_names(cli, models));
}

Cli::Candidates model_names(Cli& cli, Models& models) {
    return [&models, &cli](const std::string& file) {
        std::vector<std::string> names;
        std::string keep = cli.file;
        cli.file = file;
        auto c = models.compile(DataPathCheck::None);
        cli.file = keep;
        // From the syntax trees, so a file that does not check (an import not found without its
        // -I, say) still completes.
        for (const auto& f : c->files)
            for (const auto& d : f.decls)
                if (d.kind == ast::Decl::Kind::Model) names.push_back(d.name);
        return names;
    };
}

}  // namespace cnnc::app
