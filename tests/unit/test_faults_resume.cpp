// Issue 9, item 9: a model trained by two statements (training, then fine-tuning with another
// optimizer) keeps one training state per statement. Interrupted anywhere and resumed, the run
// ends exactly as an uninterrupted one; a state that belongs to another statement, model or
// optimizer is refused with a clear error.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "Bars.h"
#include "Faults.h"
#include "Helpers.h"
#include "TempDir.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

// bar_net trained with Adam, then fine-tuned with SGD and momentum (the slots differ: a state of
// one read by the other indexes missing slots).
std::string two_statements() {
    std::string model = kModel;
    const std::string eval = "evaluate bar_net on bars.test\n";
    model.replace(model.find(eval), eval.size(),
                  "train bar_net on bars.train {\n"
                  "    optimizer = sgd(learning_rate = 0.05, momentum = 0.9)\n"
                  "    loss = categorical_crossentropy\n"
                  "    metrics = [accuracy]\n"
                  "    epochs = 3\n"
                  "    batch_size = 16\n"
                  "    validation = bars.test\n"
                  "}\n" + eval);
    model.replace(model.find("epochs = 4"), 10, "epochs = 3");
    return model;
}

struct Outputs {
    std::string history1, history2;
    std::map<std::string, std::vector<float>> weights;
    std::string eval;
};

Outputs outputs(const fs::path& d, const CommandResult& r) {
    return {slurp(d / "bar_net_history.csv"), slurp(d / "bar_net_2_history.csv"), weight_values(d / "bar_net.weights.h5"),
            r.output.substr(r.output.rfind("bar_net on bars.test"))};
}

void check_equal(const Outputs& a, const Outputs& b) {
    CHECK(a.history1 == b.history1);
    CHECK(a.history2 == b.history2);
    CHECK(a.weights == b.weights);
    CHECK(a.eval == b.eval);
}

}  // namespace

TEST_CASE("faults: two train statements of one model, interrupted in either, resume to the uninterrupted result", "[faults][resume]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars_files(d, 64, 32, two_statements());

    CommandResult whole = run_cnnc("run bars.cnn --seed 5", d.string());
    INFO(whole.output);
    REQUIRE(whole.status == 0);
    const Outputs expected = outputs(d, whole);
    CHECK_FALSE(fs::exists(d / "bar_net.state"));  // the run is done: nothing to resume
    CHECK_FALSE(fs::exists(d / "bar_net_2.state"));

    for (const char* at : {"2:2", "2:1", "1:2"}) {
        DYNAMIC_SECTION("interrupted at statement:epoch " << at) {
            CommandResult stopped = run_cnnc("run bars.cnn --seed 5", d.string(), std::string("CNNC_INTERRUPT_AFTER_EPOCH=") + at);
            INFO(stopped.output);
            REQUIRE(stopped.status == 1);
            CHECK_THAT(stopped.output, Catch::Contains("(CNNC_INTERRUPT_AFTER_EPOCH)"));
            const bool in_second = at[0] == '2';
            // One state per statement: the first one's (finished) stays while the second's is pending.
            CHECK(fs::exists(d / "bar_net.state"));
            CHECK(fs::exists(d / "bar_net_2.state") == in_second);
            CommandResult resumed = run_cnnc("run bars.cnn --seed 5 --resume", d.string());
            INFO(resumed.output);
            REQUIRE(resumed.status == 0);
            if (in_second) {
                CHECK_THAT(resumed.output, Catch::Contains("Already trained in the interrupted run: skipped"));
                CHECK_THAT(resumed.output, Catch::Contains(std::string("Resuming after epoch ") + at[2]));
            } else {
                CHECK_THAT(resumed.output, Catch::Contains("Resuming after epoch 2"));
                CHECK_THAT(resumed.output, Catch::Contains("No saved state at"));
            }
            check_equal(outputs(d, resumed), expected);
            CHECK_FALSE(fs::exists(d / "bar_net.state"));
            CHECK_FALSE(fs::exists(d / "bar_net_2.state"));
        }
    }
}

TEST_CASE("faults: a saved state of another statement or optimizer is refused, naming the file", "[faults][resume]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars_files(d, 32, 16, two_statements());
    CommandResult stopped = run_cnnc("run bars.cnn", d.string(), "CNNC_INTERRUPT_AFTER_EPOCH=1:1");
    REQUIRE(stopped.status == 1);
    REQUIRE(fs::exists(d / "bar_net.state"));

    // `cnnc run bars.cnn --resume <extra>` with `model` as the file must be refused with `message`.
    auto refused = [&](const std::string& extra, const std::string& model, const std::string& message) {
        std::ofstream(d / "bars.cnn") << model;
        CommandResult r = run_cnnc("run bars.cnn --resume" + extra, d.string());
        INFO(r.output);
        CHECK(r.status == 1);
        CHECK_THAT(r.output, Catch::Contains(message));
    };
    const std::string same = two_statements();
    SECTION("the first statement's (Adam) state where the second (SGD) looks") {
        CommandResult finish = run_cnnc("run bars.cnn --resume", d.string(), "CNNC_INTERRUPT_AFTER_EPOCH=2:1");
        REQUIRE(finish.status == 1);  // the first finished, the second stopped after its epoch 1
        fs::copy_file(d / "bar_net.state", d / "bar_net_2.state", fs::copy_options::overwrite_existing);
        refused("", same, "bar_net_2.state: the saved state does not match this run: it was saved by "
                          "train statement 1 of the file (model bar_net, seed 1337), not by train statement 2");
    }
    SECTION("another seed") {
        refused(" --seed 4", same, "bar_net.state: the saved state does not match this run: it was saved by train statement 1 of "
                                   "the file (model bar_net, seed 1337), not by train statement 1 of the file (model bar_net, seed 4)");
    }
    SECTION("the statement's optimizer changed since") {
        std::string model = same;
        model.replace(model.find("adam(learning_rate = 0.01)"), 26, "rmsprop(learning_rate = 0.01)");
        refused("", model, "bar_net.state: the saved state does not match this run: it holds adam optimizer state, the statement uses rmsprop");
    }
    SECTION("another model of the same name") {
        std::string model = same;
        model.replace(model.find("Conv2D(8, 3"), 11, "Conv2D(4, 3");
        refused("", model, "kernel has shape (3, 3, 1, 8) in the file, (3, 3, 1, 4) in the model");
    }
}
