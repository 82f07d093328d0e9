#include "train/Interrupt.h"

#include <unistd.h>

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

}  // namespace

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
