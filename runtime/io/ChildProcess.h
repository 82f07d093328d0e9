// Running a function in a forked child process with a time limit, for work on hostile input that
// a third-party library may crash on or loop in (io/Weights.cpp: HDF5 on a damaged file). The
// child's crash or endless loop is reported here instead of taking this process with it.
#pragma once
#include <chrono>
#include <functional>

namespace cnnc::rt {

struct ChildEnd {
    enum How {
        Finished,  // returned (whatever it found, it reported nothing)
        Failed,    // exited with a status other than 0 (a sanitizer's report, an exception not std's)
        Crashed,   // killed by `signal` (a crash: SIGSEGV, SIGABRT, ...)
        TimedOut,  // still running after the limit: killed
        NoChild,   // fork failed, or the child vanished unwaited: nothing is known
    } how;
    int signal = 0;
};

// Runs `work` in a child process and waits at most `limit` for it. The child ends with _exit(0)
// after `work` (no exit handlers: they belong to this process); an exception out of `work` is
// swallowed there. Crash signals take their default action in the child, so neither cnnc's
// handlers nor a sanitizer's report the crash as this process's.
ChildEnd run_in_child(const std::function<void()>& work, std::chrono::milliseconds limit);

}  // namespace cnnc::rt
