// The command line as a user meets it (issue 14): did-you-mean for commands and options, options
// after the command and its file, `help [command]`, `list KIND` and `layers NAME` over the checker's
// own lists, --help's exit codes and environment, the man page from the same definition as --help
// (and docs/cnnc.1 equal to it), and shell completion through the real bash script.
#include <fstream>
#include <sstream>

#include "Helpers.h"
#include "TempDir.h"
#include "builtins/Builtins.h"
#include "layers/Layer.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

// The man page as text: roff's escapes undone, requests dropped.
std::string unroff(const std::string& man) {
    std::string out;
    for (const auto& l : lines(man)) {
        if (!l.empty() && l[0] == '.') {
            size_t q = l.find(' ');
            if (l.rfind(".SS ", 0) == 0) out += l.substr(q + 1) + "\n";
            continue;
        }
        std::string t;
        for (size_t i = 0; i < l.size(); ++i) {
            if (l[i] == '\\' && i + 1 < l.size()) {
                char n = l[i + 1];
                if (n == '-' || n == '\\') t += n, ++i;
                else if (n == 'f' && i + 2 < l.size()) i += 2;  // \fB \fI \fR
                else if (n == '&') ++i;
                continue;
            }
            t += l[i];
        }
        out += t + "\n";
    }
    return out;
}

// A file with two models, and a library it imports from another directory.
struct Files {
    TempDir dir;
    Files() {
        std::filesystem::create_directories(dir / "lib");
        std::ofstream(dir / "lib/blocks.cnn") << "block twice(n) { Dense(n, activation = relu)  Dense(n) }\n";
        std::ofstream(dir / "two.cnn") << "import \"blocks\"\n"
                                          "model first { input(4)  twice(3) }\n"
                                          "model second { input(4)  Dense(2) }\n";
    }
};

}  // namespace

TEST_CASE("a mistyped command or option gets a did-you-mean and exit 2", "[cli]") {
    CommandResult r = run_cnnc("chek x.cnn");
    CHECK(r.status == 2);
    CHECK(has(r.output, "unknown command 'chek'; did you mean 'check'?"));
    CHECK(has(r.output, "cnnc help"));

    r = run_cnnc("-I /tmp sumary x.cnn");  // the value of a program option is not the command
    CHECK(r.status == 2);
    CHECK(has(r.output, "unknown command 'sumary'; did you mean 'summary'?"));

    Files f;
    r = run_cnnc("summary two.cnn --expnd -I lib", f.dir.path());
    CHECK(r.status == 2);
    CHECK(has(r.output, "unknown option '--expnd' for 'summary'; did you mean '--expand'?"));
    CHECK(has(r.output, "cnnc help summary"));

    r = run_cnnc("");
    CHECK(r.status == 2);
    CHECK(has(r.output, "no command given"));
}

TEST_CASE("options work before the command, after it, and after the file", "[cli]") {
    Files f;
    for (const char* line : {"-I lib check two.cnn", "check -I lib two.cnn", "check two.cnn -I lib", "check two.cnn --import-dir=lib"}) {
        INFO(line);
        CommandResult r = run_cnnc(line, f.dir.path());
        INFO(r.output);
        CHECK(r.status == 0);
    }
    CommandResult r = run_cnnc("check two.cnn", f.dir.path());  // without -I the import is not found
    CHECK(r.status == 1);
    r = run_cnnc("summary two.cnn --model second -I lib --ascii", f.dir.path());
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(has(r.output, "second"));
    CHECK(!has(r.output, "\"first\""));
}

TEST_CASE("summary --model names the file's models when the one asked for is missing", "[cli]") {
    Files f;
    CommandResult r = run_cnnc("summary two.cnn -I lib --model secnd", f.dir.path());
    CHECK(r.status == 1);
    CHECK(has(r.output, "no model named 'secnd'; did you mean 'second'?; the file's models: first, second"));
}

TEST_CASE("help lists the commands, and help COMMAND its options", "[cli]") {
    CommandResult all = run_cnnc("help");
    REQUIRE(all.status == 0);
    for (const char* cmd : {"check", "summary", "run", "evaluate", "predict", "build", "dump", "layers", "list", "help"})
        CHECK(has(all.output, std::string("\n  ") + cmd + " "));
    CHECK(!has(all.output, "__complete"));
    CommandResult run = run_cnnc("help run");
    CHECK(run.status == 0);
    for (const char* opt : {"--epochs", "--seed", "--resume", "--output-dir", "--threads", "--no-cache"}) CHECK(has(run.output, opt));
    CHECK(run.output == run_cnnc("run --help").output);
    CommandResult bad = run_cnnc("help trian");
    CHECK(bad.status == 2);
    CHECK(has(bad.output, "no command 'trian'"));
    CommandResult predict = run_cnnc("help predict");
    for (const char* fmt : {"JPEG", "PNG", "BMP", "GIF", "PGM"}) CHECK(has(predict.output, fmt));
}

TEST_CASE("cnnc --help ends with the exit codes and the environment variables", "[cli]") {
    CommandResult r = run_cnnc("--help");
    REQUIRE(r.status == 0);
    CHECK(has(r.output, "Exit status: 0 success; 1 an error in the model file"));
    CHECK(has(r.output, "2 a usage error"));
    CHECK(has(r.output, "3 an internal error"));
    CHECK(has(r.output, "130 or 143"));
    for (const char* env : {"CNNC_CACHE_DIR", "CNNC_STDLIB", "CNNC_PROFILE", "HL_NUM_THREADS"}) CHECK(has(r.output, env));
}

TEST_CASE("list KIND shows every entry of the checker's list with its arguments and defaults", "[cli]") {
    auto starts = [](const std::string& out, const std::string& name) {
        for (const auto& l : lines(out))
            if (l == name || l.rfind(name + "(", 0) == 0) return true;
        return false;
    };
    auto check_list = [&](const char* kind, const auto& list) {
        CommandResult r = run_cnnc(std::string("list ") + kind);
        INFO(kind);
        REQUIRE(r.status == 0);
        REQUIRE(!list.empty());
        for (const auto& b : list) {
            INFO(b.name);
            CHECK(starts(r.output, b.name));
            for (const auto& a : b.aliases) CHECK(has(r.output, a));
        }
    };
    CommandResult layers = run_cnnc("list layers");
    for (const auto& n : layer_names()) CHECK(starts(layers.output, n));
    check_list("activations", activations());
    check_list("initializers", initializers());
    check_list("regularizers", regularizers());
    check_list("optimizers", optimizers());
    check_list("losses", losses());
    check_list("metrics", metrics());
    check_list("callbacks", callbacks());
    check_list("sources", data_sources());
    CHECK(has(run_cnnc("layers L1").output, "(a regularizer)"));

    CHECK(has(run_cnnc("list callbacks").output, "EarlyStopping(monitor = val_loss, min_delta = 0.0, patience = 0,"));
    CHECK(has(run_cnnc("list optimizers").output, "adam(learning_rate = 0.001,"));
    CommandResult bad = run_cnnc("list callback");
    CHECK(bad.status == 2);
    CHECK(has(bad.output, "did you mean 'callbacks'?"));
}

TEST_CASE("layers NAME describes any builtin, callbacks and optimizers included", "[cli]") {
    CommandResult r = run_cnnc("layers EarlyStopping");
    REQUIRE(r.status == 0);
    CHECK(has(r.output, "(a callback)"));
    CHECK(has(r.output, "patience"));
    r = run_cnnc("layers rmsprop");
    REQUIRE(r.status == 0);
    CHECK(has(r.output, "(an optimizer)"));
    CHECK(has(r.output, "rho"));
    r = run_cnnc("layers Conv2D");
    REQUIRE(r.status == 0);
    CHECK(has(r.output, "kernel_size"));
    r = run_cnnc("layers Conv2X");
    CHECK(r.status == 1);
    CHECK(has(r.output, "did you mean 'Conv2D'?"));
    r = run_cnnc("layers");
    CHECK(r.status == 0);
    CHECK(has(r.output, "Conv2D("));
}

TEST_CASE("the man page says what --help says, and docs/cnnc.1 is the man page", "[cli][golden]") {
    CommandResult man = run_cnnc("help --man");
    REQUIRE(man.status == 0);
    std::ifstream in(root() + "/docs/cnnc.1", std::ios::binary);
    std::ostringstream committed;
    committed << in.rdbuf();
    // scripts/update-dump-goldens rewrites it.
    CHECK(man.output == committed.str());

    std::string text = unroff(man.output);
    CHECK(has(text, "Exit status") == false);  // the man page has its own section for it
    CHECK(has(man.output, ".SH EXIT STATUS"));
    CHECK(has(man.output, ".SH ENVIRONMENT"));
    // Every command's description and every option's description, as help prints them.
    CommandResult all = run_cnnc("help");
    std::vector<std::string> commands;
    bool in_commands = false;
    for (const auto& l : lines(all.output)) {
        if (l == "Subcommands:") in_commands = true;
        else if (l.empty()) in_commands = false;
        else if (in_commands) commands.push_back(l.substr(2, l.find(' ', 2) - 2));
    }
    REQUIRE(commands.size() >= 10);
    for (const auto& cmd : commands) {
        CommandResult h = run_cnnc("help " + cmd);
        INFO(cmd);
        REQUIRE(h.status == 0);
        CHECK(has(text, lines(h.output)[0]));  // the description
        std::vector<std::string> ls = lines(h.output);
        for (size_t i = 0; i < ls.size(); ++i) {
            // An option line: "  --name TYPE    description", the description on the next line
            // when the name is long.
            const std::string& l = ls[i];
            if (l.rfind("  -", 0) != 0 || has(l, "--help")) continue;
            size_t gap = l.find("  ", 3);
            std::string desc = gap != std::string::npos ? l.substr(l.find_first_not_of(' ', gap))
                               : i + 1 < ls.size()        ? ls[i + 1].substr(ls[i + 1].find_first_not_of(' '))
                                                          : "";
            INFO(l);
            CHECK(!desc.empty());
            CHECK(has(text, desc));
        }
    }
}

TEST_CASE("shell completion, through the bash script", "[cli]") {
    Files f;
    auto complete = [&](const std::string& words) {
        // As bash would call the function after `cnnc WORDS<TAB>`, the binary standing for cnnc.
        std::ofstream(f.dir / "tab.sh") << "source '" << root() << "/scripts/cnnc.bash-completion'\n"
                                        << "COMP_WORDS=('" << CNNC_BINARY << "' " << words << ")\n"
                                        << "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_cnnc\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
        CommandResult r = run_shell("cd '" + f.dir.path() + "' && bash tab.sh");
        REQUIRE(r.status == 0);
        return lines(r.output);
    };
    using V = std::vector<std::string>;
    CHECK(complete("ch") == V{"check"});
    CHECK(complete("dump ''") == V{"ast", "kernels", "program"});
    CHECK(complete("run two.cnn --ep") == V{"--epochs"});
    CHECK(complete("summary two.cnn -I lib --model ''") == V{"first", "second"});
    CHECK(complete("list cal") == V{"callbacks"});
    CHECK(complete("layers EarlyS") == V{"EarlyStopping"});
    CHECK(complete("build two.cnn --target ''") == V{"host", "portable"});
    CHECK(complete("help su") == V{"summary"});
}
