// Ctrl-C (SIGINT) and SIGTERM during training: the first asks the trainer to stop at the end of the
// current step (it saves the resumable state and says how to continue); a second one ends the
// process at once. While kernels compile, the first one ends the process (ExitOnInterrupt).
// Elsewhere the signals keep their default action. While training, SIGPIPE is ignored: a reader
// of the output that is gone loses the progress lines, not the training.
#pragma once
#include <csignal>
#include <string>

#include "Error.h"

namespace cnnc::rt {

// Installs the handlers for its lifetime and restores the previous ones after.
class InterruptGuard {
  public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;
    // The signal received since the guard was installed, or 0.
    static int pending();

  private:
    struct sigaction old_int_, old_term_, old_pipe_;
};

// Standard output is this process's alone, whatever it is: an MPI rank's, which mpirun reads
// through a terminal or pipe it made for it. An interrupt makes it non-blocking (Interrupt.cpp
// says why), as it always does a pipe; never the user's terminal otherwise.
void set_output_private(bool own);

// While kernels compile (before training, or before an evaluation) nothing needs saving: the
// first SIGINT or SIGTERM ends the process at once, printing "<file>: interrupted by Ctrl-C
// (SIGINT) while compiling kernels" as an interrupted training says it, with the same exit status.
// Installs the handlers for its lifetime and restores the previous ones after; processes forked
// meanwhile reset them to the default (ObjectCache::compile_all's workers), so only this one speaks.
class ExitOnInterrupt {
  public:
    explicit ExitOnInterrupt(const std::string& file);
    ~ExitOnInterrupt();
    ExitOnInterrupt(const ExitOnInterrupt&) = delete;
    ExitOnInterrupt& operator=(const ExitOnInterrupt&) = delete;

  private:
    struct sigaction old_int_, old_term_;
};

// How the messages name a signal: "Ctrl-C (SIGINT)" or "SIGTERM".
const char* signal_name(int sig);

// Training stopped by a signal after saving its state. The process exits with 128 + signal (130
// for SIGINT, 143 for SIGTERM), as a shell reports a process the signal killed.
struct Interrupted : UserError {
    int signal;
    Interrupted(const std::string& what, int sig) : UserError(what), signal(sig) {}
    int exit_code() const { return 128 + signal; }
};

}  // namespace cnnc::rt
