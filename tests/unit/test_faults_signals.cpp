// Issue 9, item 21: Ctrl-C (SIGINT) or SIGTERM during training stops at the end of the current
// step, saves the state, prints the command that continues, and exits 130 or 143; that command
// then ends the run exactly as an uninterrupted one.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "Bars.h"
#include "Faults.h"
#include "Helpers.h"
#include "Signals.h"
#include "TempDir.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

// Runs `cnnc run bars.cnn --seed 3` in `dir` (output in `log`), sends `sig` once the log shows
// `marker`, and returns the exit status.
int run_and_signal(const fs::path& dir, const fs::path& log, const std::string& marker, int sig) {
    SignalledRun r = cnnc::test::run_and_signal(dir, log, {"run", "bars.cnn", "--seed", "3"}, sig,
                                                [&](pid_t) { return slurp(log).find(marker) != std::string::npos; });
    INFO(slurp(log));
    REQUIRE(r.sent);  // the run was still training when the signal came
    return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : 128 + WTERMSIG(r.status);
}

}  // namespace

TEST_CASE("faults: SIGINT and SIGTERM stop training with a saved state and the command that resumes it", "[faults][signals]") {
    TempDir dir;
    fs::path d(dir.path());
    std::string model = kModel;
    model.replace(model.find("    Flatten()\n"), 14, "    Flatten()\n    Dropout(0.25)\n");  // the mask depends on the step
    write_bars_files(d, 20000, 64, model);  // big enough to be mid-epoch when the signal arrives: 1250 steps an epoch
    CommandResult whole = run_cnnc("run bars.cnn --seed 3", d.string());
    INFO(whole.output);
    REQUIRE(whole.status == 0);
    const std::string history = slurp(d / "bar_net_history.csv");
    const auto weights = weight_values(d / "bar_net.weights.h5");
    const std::string eval = whole.output.substr(whole.output.rfind("bar_net on bars.test"));

    for (int sig : {SIGINT, SIGTERM}) {
        DYNAMIC_SECTION("signal " << sig) {
            const fs::path log = d / "log.txt";
            int status = run_and_signal(d, log, "Epoch 2/4", sig);
            std::string out = slurp(log);
            INFO(out);
            CHECK(status == 128 + sig);
            CHECK_THAT(out, Catch::Contains(std::string("interrupted by ") + (sig == SIGINT ? "Ctrl-C (SIGINT)" : "SIGTERM") + " at epoch 2, step "));
            const std::string resume = std::string("To continue where it stopped: ") + CNNC_BINARY + " run bars.cnn --seed 3 --resume";
            CHECK_THAT(out, Catch::Contains(resume));
            REQUIRE(fs::exists(d / "bar_net.state"));
            CommandResult resumed = run_shell("cd '" + d.string() + "' && " + CNNC_BINARY + " run bars.cnn --seed 3 --resume");
            INFO(resumed.output);
            REQUIRE(resumed.status == 0);
            CHECK_THAT(resumed.output, Catch::Contains("Resuming epoch 2 at step "));
            CHECK(slurp(d / "bar_net_history.csv") == history);
            CHECK(weight_values(d / "bar_net.weights.h5") == weights);
            CHECK(resumed.output.substr(resumed.output.rfind("bar_net on bars.test")) == eval);
            CHECK_FALSE(fs::exists(d / "bar_net.state"));
        }
    }
}
