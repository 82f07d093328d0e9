// ModelCheckpoint and CSVLogger write where the run's other outputs go, and say so (issue 9, item 27).
#include <filesystem>
#include <fstream>

#include "Bars.h"
#include "Helpers.h"
#include "TempDir.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

TEST_CASE("a relative ModelCheckpoint path goes under --output-dir and is listed with the outputs", "[run][callbacks][cli]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars_problem(d);
    std::string model = kModel;
    const std::string at = "    validation = bars.test\n";
    model.insert(model.find(at) + at.size(), "    callbacks = [ModelCheckpoint(\"ck/last.weights.h5\"), ModelCheckpoint(\"" +
                                                 (d / "abs.weights.h5").string() + "\")]\n");
    model.replace(model.find("epochs = 4"), 10, "epochs = 1");
    std::ofstream(d / "bars.cnn", std::ios::trunc) << model;
    CommandResult r = run_cnnc("run bars.cnn --output-dir out", dir.path());
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK(fs::is_regular_file(d / "out" / "ck" / "last.weights.h5"));
    CHECK_FALSE(fs::exists(d / "ck"));
    CHECK(fs::is_regular_file(d / "abs.weights.h5"));  // an absolute path stays where it says
    CHECK_THAT(r.output, Catch::Contains("Checkpoint: out/ck/last.weights.h5\n"));
    CHECK_THAT(r.output, Catch::Contains("Checkpoint: " + (d / "abs.weights.h5").string() + "\n"));
}

TEST_CASE("a relative CSVLogger path goes under --output-dir and is listed with the outputs", "[run][callbacks][cli]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars_problem(d);
    std::string model = kModel;
    const std::string at = "    validation = bars.test\n";
    model.insert(model.find(at) + at.size(), "    callbacks = [CSVLogger(\"logs/train.csv\"), CSVLogger(\"" + (d / "abs.csv").string() + "\")]\n");
    model.replace(model.find("epochs = 4"), 10, "epochs = 1");
    std::ofstream(d / "bars.cnn", std::ios::trunc) << model;
    CommandResult r = run_cnnc("run bars.cnn --output-dir out", dir.path());
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK(fs::is_regular_file(d / "out" / "logs" / "train.csv"));
    CHECK_FALSE(fs::exists(d / "logs"));
    CHECK(fs::is_regular_file(d / "abs.csv"));  // an absolute path stays where it says
    CHECK_THAT(r.output, Catch::Contains("Log: out/logs/train.csv\n"));
    CHECK_THAT(r.output, Catch::Contains("Log: " + (d / "abs.csv").string() + "\n"));
}
