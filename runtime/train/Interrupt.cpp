#include "train/Interrupt.h"

#include <fcntl.h>
#include <stdio_ext.h>  // __fpurge (glibc)
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace cnnc::rt {

namespace {

volatile std::sig_atomic_t g_signal = 0;
// Whether an interrupt makes standard output non-blocking (on_signal says why), and whether it
// is this process's own whatever it is (set_output_private).
volatile std::sig_atomic_t g_unblock_stdout = 0;
bool g_output_private = false;
// Standard output's flags before on_signal made it non-blocking, for ~InterruptGuard; -1: not made.
volatile std::sig_atomic_t g_stdout_flags = -1;

// Async-signal-safe only: a flag, fcntl(2), write(2) and _exit(2).
void on_signal(int sig) {
    if (g_signal != 0) {
        static const char msg[] = "\nsecond interrupt: stopping now, without saving\n";
        ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
        ::_exit(128 + sig);
    }
    g_signal = sig;
    // Output nobody reads any more must not keep the step from ending: mpirun, once Ctrl-C
    // reaches it, stops reading the ranks' output (the terminal it made for rank 0's) while it
    // sends them SIGCONT, SIGTERM a second later and SIGKILL a second after that, and rank 0,
    // blocked writing its progress bar, never got to save the state (every rank waits for it at
    // the next step). Non-blocking, the write in progress (restarted after this handler, which
    // runs on the thread the signal interrupted) and the ones after it return at once, dropping
    // what does not fit: the run is stopping, and its last words go to standard error. Until the
    // guard ends only (its destructor). Not done to the user's terminal, whose mode the shell
    // shares.
    if (g_unblock_stdout) {
        int flags = ::fcntl(STDOUT_FILENO, F_GETFL);
        if (flags >= 0 && !(flags & O_NONBLOCK) && ::fcntl(STDOUT_FILENO, F_SETFL, flags | O_NONBLOCK) == 0) g_stdout_flags = flags;
    }
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
    struct stat st {};
    g_unblock_stdout = ::fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || (g_output_private && !S_ISREG(st.st_mode)));
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // reads and writes in progress carry on; the step loop polls the flag
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
    // A reader gone does not end training: `cnnc run | tee log` and Ctrl-C, which the terminal
    // sends tee too, killed cnnc with SIGPIPE at its next progress line, before it could say where
    // it stopped. Ignored, the write fails (its progress is lost) and the step goes on to save.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &old_pipe_);
}

InterruptGuard::~InterruptGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGPIPE, &old_pipe_, nullptr);
    // After a signal, the progress not yet written is dropped: written at exit, it could wait for
    // ever on what nobody reads, or meet the pipe's SIGPIPE. Standard output then blocks again, so
    // that what is printed after training is never lost to a full pipe, nor an error of
    // fmt::print's.
    if (g_signal != 0) __fpurge(stdout);
    if (g_stdout_flags >= 0) {
        ::fcntl(STDOUT_FILENO, F_SETFL, static_cast<int>(g_stdout_flags));
        g_stdout_flags = -1;
    }
}

int InterruptGuard::pending() { return g_signal; }

void set_output_private(bool own) { g_output_private = own; }

}  // namespace cnnc::rt
