// Ctrl-C (SIGINT) or SIGTERM while `cnnc run` JIT-compiles its kernels: the process stops at once,
// says "<file>: interrupted by ... while compiling kernels" as an interrupted training says it, and
// exits with the training's status (128 + signal), instead of dying silently.
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

// CPU seconds `pid` has used (user + system, /proc/<pid>/stat fields 14 and 15).
double cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t close = stat.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) return 0;
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
        if (i == 14) utime = std::stoll(f);
        if (i == 15) stime = std::stoll(f);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

TEST_CASE("a signal while the kernels compile stops the run at once with the training's message and status", "[signals][cli]") {
    if (!fs::exists("/proc/self/stat")) skip("no /proc to tell when cnnc is compiling");
    TempDir dir;
    fs::path d(dir.path());
    // Several convolutions of different shapes: many kernels, so compiling lasts seconds.
    std::string model = kModel;
    model.replace(model.find("    Conv2D(8, 3, activation = relu)\n"), 36,
                  "    Conv2D(8, 3, padding = same, activation = elu)\n    Conv2D(12, 3, padding = same, activation = selu)\n"
                  "    Conv2D(16, 3, padding = same, activation = gelu)\n    Conv2D(20, 3, padding = same, activation = mish)\n"
                  "    Conv2D(24, 3, activation = swish)\n");
    write_bars_files(d, 64, 32, model);
    for (int sig : {SIGINT, SIGTERM}) {
        DYNAMIC_SECTION("signal " << sig) {
            const fs::path log = d / "log.txt";
            // A second of CPU time is far past reading and checking the file: LLVM is compiling.
            SignalledRun r = run_and_signal(d, log, {"run", "bars.cnn", "--no-cache"}, sig, [](pid_t pid) { return cpu_seconds(pid) >= 1.0; });
            const int status = r.status;
            const bool sent = r.sent;
            const std::string out = slurp(log);
            INFO(out);
            REQUIRE(sent);
            REQUIRE(out.find("Training bar_net") == std::string::npos);  // still compiling when the signal came
            CHECK(WIFEXITED(status));
            CHECK((WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) == 128 + sig);
            CHECK_THAT(out, Catch::Contains(std::string("bars.cnn: interrupted by ") + (sig == SIGINT ? "Ctrl-C (SIGINT)" : "SIGTERM") +
                                            " while compiling kernels\n"));
        }
    }
}
