// Shared by the tests that interrupt cnnc (test_faults_signals, test_interrupt_compiling): run a
// cnnc command in the background and send it a signal when the test says the moment has come.
#pragma once
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "Faults.h"
#include "Helpers.h"

namespace cnnc::test {

// Starts `cnnc <args>` in `dir` with its output in `log`, sends `sig` once `ready(pid)` holds
// (polled every 5 ms), and waits for it to end; fails the test after 5 minutes. Returns the wait
// status (WIFEXITED...), whether the signal was sent before cnnc ended on its own, and how long
// cnnc ran on after it. `stdout_fd`: cnnc's standard output instead of `log` (the write end of a
// pipe the test reads, made close-on-exec so that cnnc holds no copy of its read end), closed
// here once cnnc has it.
struct SignalledRun {
    int status = 0;
    bool sent = false;
    std::chrono::duration<double> after_signal{};
};
inline SignalledRun run_and_signal(const std::filesystem::path& dir, const std::filesystem::path& log,
                                   const std::vector<std::string>& args, int sig, const std::function<bool(pid_t)>& ready,
                                   int stdout_fd = -1) {
    std::vector<char*> argv{const_cast<char*>(CNNC_BINARY)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::chdir(dir.c_str()) != 0) ::_exit(126);
        FILE* out = std::fopen(log.c_str(), "w");
        if (!out) ::_exit(126);
        ::dup2(stdout_fd >= 0 ? stdout_fd : fileno(out), 1);
        ::dup2(fileno(out), 2);
        ::execv(CNNC_BINARY, argv.data());
        ::_exit(127);
    }
    if (stdout_fd >= 0) ::close(stdout_fd);
    auto start = std::chrono::steady_clock::now(), signalled = start;
    SignalledRun r;
    while (::waitpid(pid, &r.status, WNOHANG) == 0) {
        if (!r.sent && ready(pid)) {
            ::kill(pid, sig);
            r.sent = true;
            signalled = std::chrono::steady_clock::now();
        }
        if (std::chrono::steady_clock::now() - start > std::chrono::minutes(5)) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            FAIL("cnnc did not finish: " << slurp(log));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (r.sent) r.after_signal = std::chrono::steady_clock::now() - signalled;
    return r;
}

}  // namespace cnnc::test
