// Issue 9, item 21: Ctrl-C (SIGINT) or SIGTERM during training stops at the end of the current
// step, saves the state, prints the command that continues, and exits 130 or 143; that command
// then ends the run exactly as an uninterrupted one.
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
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

// The bars problem training for ever (64 images, 100,000 epochs), in `dir`.
void write_endless_bars(const fs::path& dir) {
    std::string model = kModel;
    model.replace(model.find("epochs = 4"), 10, "epochs = 100000");
    write_bars_files(dir, 64, 16, model);
}

// A run that Ctrl-C stopped within 10 s, with exit 130, the message that says where and how to
// continue (`err`: its standard error), and the state in `dir`.
void check_stopped_and_saved(const SignalledRun& r, const std::string& err, const fs::path& dir) {
    INFO(err);
    REQUIRE(r.sent);
    CHECK(r.after_signal < std::chrono::seconds(10));
    CHECK_FALSE(WIFSIGNALED(r.status));
    CHECK(WIFEXITED(r.status));
    CHECK(WEXITSTATUS(r.status) == 130);
    CHECK_THAT(err, Catch::Contains("interrupted by Ctrl-C (SIGINT) "));
    CHECK_THAT(err, Catch::Contains("the training state is saved in ./bar_net.state"));
    CHECK_THAT(err, Catch::Contains("To continue where it stopped: "));
    CHECK(fs::exists(dir / "bar_net.state"));
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

TEST_CASE("faults: Ctrl-C while standard output is a full pipe nobody reads stops with the saved state", "[faults][signals]") {
    // `cnnc run | less` left unread, or mpirun, which stops reading the ranks once Ctrl-C reaches
    // it: cnnc is blocked writing its progress when the signal comes. It used to stay blocked (the
    // write restarts after the handler) and never reach the end of its step.
    TempDir dir;
    fs::path d(dir.path());
    write_endless_bars(d);
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    ::fcntl(out[0], F_SETPIPE_SZ, 4096);  // the smallest pipe: full after a few dozen epochs' lines
    // Full: over half the pipe queued, unchanged for half a second (a write that does not fit
    // waits whole, so the pipe is not quite at its size; while kernels compile it holds a line).
    int queued = 0, last = -1;
    auto since = std::chrono::steady_clock::now();
    auto full = [&](pid_t) {
        if (::ioctl(out[0], FIONREAD, &queued) != 0) return false;
        if (queued != last) last = queued, since = std::chrono::steady_clock::now();
        return queued > 2048 && std::chrono::steady_clock::now() - since > std::chrono::milliseconds(500);
    };
    SignalledRun r = run_and_signal(d, d / "stderr.txt", {"run", "bars.cnn", "--seed", "3"}, SIGINT, full, out[1]);
    ::close(out[0]);
    check_stopped_and_saved(r, slurp(d / "stderr.txt"), d);
}

TEST_CASE("faults: Ctrl-C that also ends the reader of the output (cnnc run | tee) stops with the saved state", "[faults][signals]") {
    // The terminal sends Ctrl-C to the whole pipeline: tee ends at once, and cnnc's next progress
    // line met the closed pipe's SIGPIPE, which killed it (status 141) before it said where it
    // stopped.
    TempDir dir;
    fs::path d(dir.path());
    write_endless_bars(d);
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC | O_NONBLOCK) == 0);
    // The reader reads until training is under way, then ends as the signal comes.
    std::string seen;
    auto under_way = [&](pid_t) {
        char buf[4096];
        for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) seen.append(buf, static_cast<size_t>(n));
        if (seen.find("Epoch 3/") == std::string::npos) return false;
        ::close(out[0]);
        return true;
    };
    SignalledRun r = run_and_signal(d, d / "stderr.txt", {"run", "bars.cnn", "--seed", "3"}, SIGINT, under_way, out[1]);
    check_stopped_and_saved(r, slurp(d / "stderr.txt"), d);
}
