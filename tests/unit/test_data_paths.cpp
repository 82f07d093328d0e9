// Data files checked before anything runs, and errors found while reading them located at the
// statement that names them (issue 9, item 26).
#include <filesystem>
#include <fstream>

#include "Bars.h"
#include "Helpers.h"
#include "TempDir.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

TEST_CASE("cnnc check reports missing data files, summary does not look for them", "[errors][paths][cli]") {
    TempDir dir;
    std::ofstream(dir / "bars.cnn") << kModel;
    CommandResult check = run_cnnc("check bars.cnn", dir.path());
    INFO(check.output);
    CHECK(check.status == 1);
    CHECK_THAT(check.output, Catch::Contains("bars.cnn:3:17: error: no such file: \"train-images\" (looked in the working "
                                             "directory and beside the model file)\n"
                                             "    3 |     train = idx(\"train-images\", \"train-labels\")\n"
                                             "      |                 ^~~~~~~~~~~~~~\n"));
    CHECK_THAT(check.output, Catch::Contains("bars.cnn:4:17: error: no such file: \"test-images\""));
    CHECK_THAT(check.output, Catch::Contains("4 errors generated."));
    CHECK(run_cnnc("summary bars.cnn", dir.path()).status == 0);
    // With the data there (even beside the model file, seen from another working directory) it passes.
    write_bars_problem(fs::path(dir.path()));
    CHECK(run_cnnc("check bars.cnn", dir.path()).status == 0);
    CHECK(run_cnnc("check " + dir.path() + "/bars.cnn", "/").status == 0);
}

TEST_CASE("cnnc evaluate needs only the files its evaluate statements read", "[errors][paths][cli]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars_problem(d);
    fs::remove(d / "train-images");
    CommandResult check = run_cnnc("check bars.cnn", dir.path());
    CHECK(check.status == 1);
    CHECK_THAT(check.output, Catch::Contains("no such file: \"train-images\""));
    // evaluate reads bars.test only: the missing training file is not its problem (the weights are).
    CommandResult eval = run_cnnc("evaluate bars.cnn --weights nothing.weights.h5", dir.path());
    CHECK_THAT(eval.output, !Catch::Contains("train-images"));
}

TEST_CASE("an error in a data file's contents points at the member that names the file", "[errors][paths][run][cli]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars_problem(d);
    std::ofstream(d / "train-images", std::ios::trunc) << "not an IDX file at all";
    CommandResult r = run_cnnc("run bars.cnn", dir.path());
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("bars.cnn:3:13: error: "));
    CHECK_THAT(r.output, Catch::Contains("    3 |     train = idx(\"train-images\", \"train-labels\")\n"));
    CHECK_THAT(r.output, Catch::Contains("      |             ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"));
}

TEST_CASE("an unclosed brace is reported at its opening, without a cascade", "[errors][syntax]") {
    auto c = compile("model m {\n    input(4)\n    Dense(2)\n\ntrain m on d.x {\n    loss = mse\n}\n");
    REQUIRE(errors(*c) == std::vector<std::string>{"1:9: error: this '{' is never closed"});
    std::string r = c->diags.render();
    CHECK_THAT(r, Catch::Contains("test.cnn:5:1: note: the next declaration starts here, so '}' was expected before it\n"));
    // At the end of the file, the note is where the parser stopped.
    auto eof = compile("model m {\n    input(4)\n    Dense(2, activation = softmax\n}\n");
    REQUIRE(errors(*eof) == std::vector<std::string>{"3:10: error: this '(' is never closed"});
}
