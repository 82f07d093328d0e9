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
    std::string model = kModel;
    model.replace(model.find("epochs = 4"), 10, "epochs = 100000");
    write_bars_files(d, 64, 16, model);
    int out[2];
    REQUIRE(::pipe(out) == 0);
    ::fcntl(out[0], F_SETPIPE_SZ, 4096);  // the smallest pipe: full after a few dozen epochs' lines
    const fs::path log = d / "stderr.txt";
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        FILE* err = std::fopen(log.c_str(), "w");
        if (::chdir(d.c_str()) != 0 || !err) ::_exit(126);
        ::dup2(out[1], 1);
        ::dup2(fileno(err), 2);
        ::close(out[0]);
        ::execl(CNNC_BINARY, CNNC_BINARY, "run", "bars.cnn", "--seed", "3", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(out[1]);
    struct Reaper {  // a failed REQUIRE leaves no cnnc training behind
        pid_t pid;
        bool reaped = false;
        ~Reaper() {
            if (!reaped) ::kill(pid, SIGKILL), ::waitpid(pid, nullptr, 0);
        }
    } reaper{pid};
    // Full: over half the pipe queued, unchanged for half a second (a write that does not fit
    // waits whole, so the pipe is not quite at its size; while kernels compile it holds a line).
    const auto start = std::chrono::steady_clock::now();
    auto since = start;
    int queued = 0, last = -1, status = 0;
    while (std::chrono::steady_clock::now() - start < std::chrono::minutes(2)) {
        REQUIRE(::waitpid(pid, &status, WNOHANG) == 0);  // still training
        REQUIRE(::ioctl(out[0], FIONREAD, &queued) == 0);
        if (queued != last) last = queued, since = std::chrono::steady_clock::now();
        if (queued > 2048 && std::chrono::steady_clock::now() - since > std::chrono::milliseconds(500)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    INFO(slurp(log));
    REQUIRE(queued > 2048);
    REQUIRE(::kill(pid, SIGINT) == 0);
    const auto signalled = std::chrono::steady_clock::now();
    bool ended = false;
    while (!(ended = ::waitpid(pid, &status, WNOHANG) == pid) && std::chrono::steady_clock::now() - signalled < std::chrono::seconds(20))
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    reaper.reaped = ended;
    ::close(out[0]);
    const std::string err = slurp(log);
    INFO(err);
    REQUIRE(ended);
    CHECK(std::chrono::steady_clock::now() - signalled < std::chrono::seconds(10));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 130);
    CHECK_THAT(err, Catch::Contains("interrupted by Ctrl-C (SIGINT) "));
    CHECK_THAT(err, Catch::Contains("the training state is saved in ./bar_net.state"));
    CHECK(fs::exists(d / "bar_net.state"));
}
