#include "train/Interrupt.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace cnnc::rt {

namespace {

volatile std::sig_atomic_t g_signal = 0;

// Async-signal-safe only: a flag, write(2) and _exit(2).
void on_signal(int sig) {
    if (g_signal != 0) {
        static const char msg[] = "\nsecond interrupt: stopping now, without saving\n";
        ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
        ::_exit(128 + sig);
    }
    g_signal = sig;
    static const char msg[] = "\ninterrupt: stopping after this step and saving the state (again to stop at once)\n";
    ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
}

// ExitOnInterrupt's messages, formatted before the handler is installed (a handler may not
// allocate): one per signal it handles.
char g_exit_int[512], g_exit_term[512];

void exit_on_signal(int sig) {
    const char* msg = sig == SIGINT ? g_exit_int : g_exit_term;
    ssize_t ignored = ::write(STDERR_FILENO, msg, std::strlen(msg));
    (void)ignored;
    ::_exit(128 + sig);
}

}  // namespace

const char* signal_name(int sig) { return sig == SIGINT ? "Ctrl-C (SIGINT)" : "SIGTERM"; }

ExitOnInterrupt::ExitOnInterrupt(const std::string& file) {
    for (int sig : {SIGINT, SIGTERM})
        std::snprintf(sig == SIGINT ? g_exit_int : g_exit_term, sizeof g_exit_int, "\n%s: interrupted by %s while compiling kernels\n",
                      file.c_str(), signal_name(sig));
    std::fflush(stdout);  // what was printed before comes before the message
    struct sigaction sa {};
    sa.sa_handler = exit_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
}

ExitOnInterrupt::~ExitOnInterrupt() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
}

InterruptGuard::InterruptGuard() {
    g_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // reads and writes in progress carry on; the step loop polls the flag
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
}

InterruptGuard::~InterruptGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
}

int InterruptGuard::pending() { return g_signal; }

}  // namespace cnnc::rt
