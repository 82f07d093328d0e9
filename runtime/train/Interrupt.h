// Ctrl-C (SIGINT) and SIGTERM during training: the first asks the trainer to stop at the end of the
// current step (it saves the resumable state and says how to continue); a second one ends the
// process at once. Outside training the signals keep their default action.
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
    struct sigaction old_int_, old_term_;
};

// Training stopped by a signal after saving its state. The process exits with 128 + signal (130
// for SIGINT, 143 for SIGTERM), as a shell reports a process the signal killed.
struct Interrupted : UserError {
    int signal;
    Interrupted(const std::string& what, int sig) : UserError(what), signal(sig) {}
    int exit_code() const { return 128 + signal; }
};

}  // namespace cnnc::rt
