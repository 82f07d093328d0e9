// `cnnc run` end to end on data the test writes: real IDX files of a small two-class problem,
// trained from the command line; and the errors a user meets (missing data, a NaN loss).
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "EngineHelpers.h"
#include "TempDir.h"
#include "TestData.h"
#include "Bars.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

using Run = CommandResult;

Run run_in(const fs::path& dir, const std::string& args) { return run_cnnc(args, dir.string()); }

// kModel with extra lines in its train statement (callbacks, ...), after `validation = bars.test`.
std::string model_with(const std::string& train_lines) {
    std::string model = kModel;
    const std::string at = "    validation = bars.test\n";
    model.insert(model.find(at) + at.size(), train_lines);
    return model;
}

}  // namespace

TEST_CASE("cnnc run trains and evaluates from IDX files, writes the history, and is reproducible", "[run][cli]") {
    // The seed's two figures are part of what a run writes (scripts/install-deps installs gnuplot).
    if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) skip("gnuplot is not installed, so no plots to check");
    TempDir dir;
    write_bars_problem(fs::path(dir.path()));
    Run r = run_in(fs::path(dir.path()), "run bars.cnn --seed 3");
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("Epoch 1/4"));
    CHECK_THAT(r.output, Catch::Contains("Epoch 4/4"));
    CHECK_THAT(r.output, Catch::Contains("13/13 [==============================]"));  // 200 / 16, the last batch partial
    CHECK_THAT(r.output, Catch::Contains(" - val_loss: "));
    std::ifstream h(fs::path(dir.path()) / "bar_net_history.csv");
    std::string header;
    std::getline(h, header);
    CHECK(header == "epoch,loss,accuracy,val_loss,val_accuracy");
    int rows = 0;
    for (std::string line; std::getline(h, line);) ++rows;
    CHECK(rows == 4);
    CHECK(fs::file_size(fs::path(dir.path()) / "bar_net_accuracy.png") > 1000);
    CHECK(fs::file_size(fs::path(dir.path()) / "bar_net_loss.svg") > 1000);
    // The task is learnable: the evaluation line reports a high accuracy.
    CHECK(metric_on_line(r.output, "bar_net on bars.test: ", "accuracy") >= 0.9);
    // Same seed, same numbers (the progress lines carry the losses to four decimals).
    Run again = run_in(fs::path(dir.path()), "run bars.cnn --seed 3");
    auto losses = [](const std::string& s) {
        std::string out;
        for (size_t p = s.find("loss: "); p != std::string::npos; p = s.find("loss: ", p + 1)) out += s.substr(p, 12) + ";";
        return out;
    };
    CHECK(losses(again.output) == losses(r.output));
}

TEST_CASE("cnnc run: a missing data file is an error naming it", "[run][cli]") {
    TempDir dir;
    std::ofstream(fs::path(dir.path()) / "bars.cnn") << kModel;
    Run r = run_in(fs::path(dir.path()), "run bars.cnn");
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("train-labels"));
    CHECK_THAT(r.output, Catch::Contains("error"));
    CHECK_THAT(r.output, !Catch::Contains("internal error"));
}

TEST_CASE("cnnc run: a loss that becomes NaN stops with a clear error", "[run][cli]") {
    TempDir dir;
    write_bars(fs::path(dir.path()) / "train-images", fs::path(dir.path()) / "train-labels", 64, 1);
    write_bars(fs::path(dir.path()) / "test-images", fs::path(dir.path()) / "test-labels", 16, 2);
    std::string model = kModel;
    model.replace(model.find("adam(learning_rate = 0.01)"), 26, "sgd(learning_rate = 1e30)");
    std::ofstream(fs::path(dir.path()) / "bars.cnn") << model;
    Run r = run_in(fs::path(dir.path()), "run bars.cnn");
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("the loss became"));
}

TEST_CASE("cnnc run executes EarlyStopping and ReduceLROnPlateau from the file", "[run][callbacks]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars(d / "train-images", d / "train-labels", 64, 1);
    write_bars(d / "test-images", d / "test-labels", 16, 2);
    std::string model = model_with(
                  "    callbacks = [EarlyStopping(monitor = loss, min_delta = 100, patience = 2, verbose = 1),\n"
                  "                 ReduceLROnPlateau(monitor = val_loss, min_delta = 100, patience = 1, factor = 0.5)]\n");
    std::ofstream(d / "bars.cnn") << model;
    Run r = run_in(d, "run bars.cnn");
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("Epoch 3: early stopping"));  // epochs 2 and 3 do not improve by 100
    CHECK_THAT(r.output, !Catch::Contains("Epoch 4/4"));
    CHECK_THAT(r.output, Catch::Contains(" - learning_rate: 0.0100\n"));  // epochs 1 and 2 train at 0.01 ...
    CHECK_THAT(r.output, Catch::Contains(" - learning_rate: 0.0050\n"));  // ... halved after epoch 2's plateau
}

TEST_CASE("ModelCheckpoint(save_best_only) keeps the epoch with the lowest val_loss, evaluate loads it", "[run][weights]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars(d / "train-images", d / "train-labels", 96, 1);
    write_bars(d / "test-images", d / "test-labels", 32, 2);
    std::string model = model_with(
                  "    callbacks = [ModelCheckpoint(\"ckpt/best_{epoch:02d}.weights.h5\", monitor = val_loss, save_best_only = true, verbose = 1),\n"
                  "                 ModelCheckpoint(\"ckpt/best.weights.h5\", monitor = val_loss, save_best_only = true)]\n");
    model.replace(model.find("epochs = 4"), 10, "epochs = 6");
    std::ofstream(d / "bars.cnn") << model;
    Run r = run_in(d, "run bars.cnn --seed 5");
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("Epoch 1: val_loss improved from inf to "));
    // The lowest val_loss of the history is the checkpoint's.
    std::ifstream h(d / "bar_net_history.csv");
    std::string line;
    std::getline(h, line);
    double best = 1e9;
    int best_epoch = 0;
    while (std::getline(h, line)) {
        std::vector<std::string> cells;
        std::stringstream ss(line);
        for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
        double v = std::stod(cells.at(3));
        if (v < best) best = v, best_epoch = std::stoi(cells[0]);
    }
    CHECK(fs::exists(d / "ckpt" / fmt::format("best_{:02d}.weights.h5", best_epoch)));
    std::ofstream(d / "eval.cnn") << std::string(kModel).substr(0, std::string(kModel).find("train bar_net")) +
                                         "evaluate bar_net on bars.test { weights = \"ckpt/best.weights.h5\"\n"
                                         "    loss = categorical_crossentropy  metrics = [accuracy] }\n";
    Run e = run_in(d, "run eval.cnn");
    INFO(e.output);
    REQUIRE(e.status == 0);
    auto at = e.output.rfind("bar_net on bars.test: loss: ");
    REQUIRE(at != std::string::npos);
    CHECK(std::stod(e.output.substr(at + 28)) == Approx(best).margin(1e-4));
}

TEST_CASE("features(model, data): a frozen model's outputs computed once and trained on", "[run][features]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars(d / "train-images", d / "train-labels", 96, 1);
    write_bars(d / "test-images", d / "test-labels", 32, 2);
    std::string base = std::string(kModel).substr(0, std::string(kModel).find("model bar_net"));
    std::ofstream(d / "feats.cnn") << base << R"(
model extractor {
    input(8, 8, 1)
    Conv2D(8, 3, activation = relu, trainable = false)
    GlobalMaxPooling2D()
}
dataset feats {
    train = features(extractor, bars.train)
    test  = features(extractor, bars.test)
    labels = one_hot(2)
}
model head {
    input(8)
    Dense(2, activation = softmax)
}
train head on feats.train {
    optimizer = adam(learning_rate = 0.05)
    loss = categorical_crossentropy
    metrics = [accuracy]
    epochs = 3
}
evaluate head on feats.test
)";
    Run r = run_in(d, "run feats.cnn");
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("Extracting features of bars.train with extractor: 96 samples"));
    CHECK_THAT(r.output, Catch::Contains("Training head on feats.train: 96 samples"));
    CHECK_THAT(r.output, Catch::Contains("head on feats.test: loss: "));
}

TEST_CASE("an interrupted run resumed with --resume ends exactly like an uninterrupted one", "[run][resume]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars(d / "train-images", d / "train-labels", 96, 1);
    write_bars(d / "test-images", d / "test-labels", 32, 2);
    std::string model = model_with(
                  "    callbacks = [ReduceLROnPlateau(monitor = val_loss, factor = 0.5, patience = 1, min_delta = 0.05),\n"
                  "                 EarlyStopping(monitor = val_loss, patience = 10, restore_best_weights = true),\n"
                  "                 CSVLogger(\"log.csv\")]\n");
    model.replace(model.find("    Flatten()\n"), 14, "    Flatten()\n    Dropout(0.3)\n");
    model.replace(model.find("epochs = 4"), 10, "epochs = 5");
    std::ofstream(d / "bars.cnn") << model;
    auto read = [&](const char* name) {
        std::ifstream in(d / name);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    };
    Run whole = run_in(d, "run bars.cnn --seed 9");
    REQUIRE(whole.status == 0);
    CHECK_FALSE(fs::exists(d / "bar_net.state"));  // removed when training completes
    std::string history = read("bar_net_history.csv"), log = read("log.csv");
    std::string eval = whole.output.substr(whole.output.rfind("bar_net on bars.test"));

    // The same run, stopped after epoch 2 (as if killed), then resumed.
    Run interrupted = run_cnnc("run bars.cnn --seed 9", d.string(), "CNNC_INTERRUPT_AFTER_EPOCH=2");
    INFO(interrupted.output);
    REQUIRE(interrupted.status == 1);
    CHECK_THAT(interrupted.output, Catch::Contains("interrupted after epoch 2"));
    REQUIRE(fs::exists(d / "bar_net.state"));
    Run resumed = run_in(d, "run bars.cnn --seed 9 --resume");
    INFO(resumed.output);
    REQUIRE(resumed.status == 0);
    CHECK_THAT(resumed.output, Catch::Contains("Resuming after epoch 2"));
    CHECK_THAT(resumed.output, !Catch::Contains("Epoch 2/5"));
    CHECK(read("bar_net_history.csv") == history);
    CHECK(read("log.csv") == log);
    CHECK(resumed.output.substr(resumed.output.rfind("bar_net on bars.test")) == eval);
}
