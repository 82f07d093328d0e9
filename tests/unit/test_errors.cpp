// The broken-file corpus: each tests/errors/fail_*.cnn lists, in `# expect:` lines, every error
// cnnc must report for it (line:col: error: message), in order, and nothing else.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "Helpers.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

using Run = CommandResult;

namespace {
std::vector<fs::path> corpus() {
    std::vector<fs::path> v;
    for (const auto& e : fs::directory_iterator(root() + "/tests/errors"))
        if (e.path().filename().string().rfind("fail_", 0) == 0 && e.path().extension() == ".cnn") v.push_back(e.path());
    std::sort(v.begin(), v.end());
    return v;
}

std::vector<std::string> expected(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<std::string> v;
    for (std::string line; std::getline(in, line);)
        if (line.rfind("# expect: ", 0) == 0) v.push_back(line.substr(10));
    return v;
}

Run run(const std::string& args) { return run_cnnc(args); }
}  // namespace

TEST_CASE("every broken file gives exactly its expected diagnostics", "[errors][golden]") {
    auto files = corpus();
    REQUIRE(files.size() >= 30);
    for (const auto& p : files) {
        DYNAMIC_SECTION(p.filename().string()) {
            auto want = expected(p);
            REQUIRE_FALSE(want.empty());
            FrontendOptions o;
            o.import_dirs = {root() + "/stdlib"};
            o.data_paths = DataPathCheck::Run;  // as `cnnc check` (and scripts/update-error-goldens)
            auto c = compile_file(p.string(), o);
            CHECK(errors(*c) == want);
            CHECK(c->diags.has_errors());
        }
    }
}

TEST_CASE("cnnc check exits 1 on every broken file and prints the source line with a caret", "[errors][cli]") {
    for (const auto& p : corpus()) {
        DYNAMIC_SECTION(p.filename().string()) {
            Run r = run("check " + p.string());
            CHECK(r.status == 1);
            CHECK_THAT(r.output, Catch::Contains(": error: "));
            CHECK_THAT(r.output, Catch::Contains(" | "));
            CHECK_THAT(r.output, Catch::Contains("^"));
            CHECK_THAT(r.output, !Catch::Contains("internal error"));
        }
    }
}

TEST_CASE("the caret sits under the offending text", "[errors]") {
    auto c = compile("model m {\n    input(28, 28, 1)\n    Conv2d(32, 3)\n}\n");
    std::string r = c->diags.render();
    CHECK_THAT(r, Catch::Contains("test.cnn:3:5: error: unknown layer or block 'Conv2d'; did you mean 'Conv2D'?\n"
                                  "    3 |     Conv2d(32, 3)\n"
                                  "      |     ^~~~~~\n"));
}

TEST_CASE("command line exit codes", "[cli]") {
    CHECK(run("summary " + root() + "/models/mnist.cnn").status == 0);
    Run missing = run("check /nonexistent/model.cnn");
    CHECK(missing.status == 1);
    CHECK_THAT(missing.output, Catch::Contains("cannot read '/nonexistent/model.cnn'"));
    CHECK(run("check " + root() + "/models").status == 1);  // a directory
    CHECK(run("frobnicate").status == 2);
    CHECK(run("").status == 2);
    Run wrong_model = run("summary " + root() + "/models/mnist.cnn --model mnist");
    CHECK(wrong_model.status == 1);
    CHECK_THAT(wrong_model.output, Catch::Contains("did you mean 'mnist_cnn'?"));
    Run layer = run("layers Conv2D");
    CHECK(layer.status == 0);
    CHECK_THAT(layer.output, Catch::Contains("kernel_size"));
    CHECK(run("layers Conv2d").status == 1);
}

TEST_CASE("summary output: box table by default, ASCII on request", "[cli]") {
    Run box = run("summary --box " + root() + "/models/mnist.cnn");
    CHECK_THAT(box.output, Catch::StartsWith("Model: \"mnist_cnn\"\n┏━━"));
    Run ascii = run("summary --ascii " + root() + "/models/mnist.cnn");
    CHECK_THAT(ascii.output, Catch::Contains(" conv2d (Conv2D) "));
    for (unsigned char ch : ascii.output) CHECK(ch < 0x80);
}

// Inputs the fuzzer once crashed on (tests/fuzz/regressions/): each must now give diagnostics, not
// an exception or a crash.
TEST_CASE("fuzzer regressions are handled", "[errors][fuzz]") {
    int n = 0;
    for (const auto& e : fs::directory_iterator(root() + "/tests/fuzz/regressions")) {
        DYNAMIC_SECTION(e.path().filename().string()) {
            FrontendOptions o;
            o.import_dirs = {root() + "/stdlib"};
            std::unique_ptr<Compilation> c;
            REQUIRE_NOTHROW(c = compile_file(e.path().string(), o));
            CHECK_FALSE(c->diags.render().empty());
        }
        ++n;
    }
    CHECK(n >= 1);
}
