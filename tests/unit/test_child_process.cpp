// rt::run_in_child, which the weights reader uses to meet HDF5's crashes and endless loops on a
// damaged file in a child process: each way a child can end, as the reader sees it.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <stdexcept>

#include "Helpers.h"
#include "io/ChildProcess.h"

using namespace cnnc;
using namespace std::chrono_literals;

TEST_CASE("child process: finished, failed, crashed and looping children, each told apart", "[weights][faults]") {
    SECTION("a child that returns, or throws, finished") {
        CHECK(rt::run_in_child([] {}, 5s).how == rt::ChildEnd::Finished);
        CHECK(rt::run_in_child([] { throw std::runtime_error("bad file"); }, 5s).how == rt::ChildEnd::Finished);
    }
    SECTION("a child that exits with a status failed") {
        CHECK(rt::run_in_child([] { ::_exit(3); }, 5s).how == rt::ChildEnd::Failed);
    }
    SECTION("a child a signal kills crashed, with the signal") {
        rt::ChildEnd end = rt::run_in_child([] { std::raise(SIGSEGV); }, 5s);
        CHECK(end.how == rt::ChildEnd::Crashed);
        CHECK(end.signal == SIGSEGV);
        CHECK(rt::run_in_child([] { std::abort(); }, 5s).signal == SIGABRT);
    }
    SECTION("a child that never ends is killed at the limit, and the caller goes on") {
        const auto start = std::chrono::steady_clock::now();
        rt::ChildEnd end = rt::run_in_child([] {
            for (;;) ::pause();
        }, 300ms);
        const auto took = std::chrono::steady_clock::now() - start;
        CHECK(end.how == rt::ChildEnd::TimedOut);
        CHECK(took >= 300ms);
        CHECK(took < 2s);
    }
    SECTION("a quick child's answer comes about when it ends, not at the limit") {
        const auto start = std::chrono::steady_clock::now();
        CHECK(rt::run_in_child([] { ::usleep(20'000); }, 60s).how == rt::ChildEnd::Finished);
        CHECK(std::chrono::steady_clock::now() - start < 1s);
    }
}
