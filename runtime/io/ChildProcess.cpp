#include "io/ChildProcess.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <exception>
#include <thread>

namespace cnnc::rt {

ChildEnd run_in_child(const std::function<void()>& work, std::chrono::milliseconds limit) {
    pid_t child = ::fork();
    if (child < 0) return {ChildEnd::NoChild};
    if (child == 0) {
        for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, SIG_DFL);
        try {
            work();
        } catch (const std::exception&) {
        }
        ::_exit(0);
    }
    // Polled with a sleep that grows from 0.1 to 10 ms: a quick child's answer costs about what
    // it took, a slow one's at most 10 ms more.
    const auto deadline = std::chrono::steady_clock::now() + limit;
    auto nap = std::chrono::microseconds(100);
    int status = 0;
    for (;;) {
        pid_t done = ::waitpid(child, &status, WNOHANG);
        if (done == child) break;
        if (done < 0 && errno != EINTR) return {ChildEnd::NoChild};
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(child, SIGKILL);
            while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
            }
            return {ChildEnd::TimedOut};
        }
        std::this_thread::sleep_for(nap);
        nap = std::min(nap * 2, std::chrono::microseconds(10'000));
    }
    if (WIFSIGNALED(status)) return {ChildEnd::Crashed, WTERMSIG(status)};
    return {WEXITSTATUS(status) == 0 ? ChildEnd::Finished : ChildEnd::Failed};
}

}  // namespace cnnc::rt
