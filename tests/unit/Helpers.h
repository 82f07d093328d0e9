// Shared by the unit tests: compile a snippet or a repository file, and find things in the result.
#pragma once
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "frontend/Frontend.h"

namespace cnnc::test {

inline std::string root() { return CNNC_ROOT; }

// A test that cannot run here (a tool, a data set or a privilege is missing) must not pass. Under
// CTest (which runs each test case in a process of its own and sets CNNC_UNDER_CTEST) it exits with
// the code tests/CMakeLists.txt declares as SKIP_RETURN_CODE, so CTest reports it as skipped; run
// directly, the test fails, saying why. CI installs everything, so nothing is skipped there.
[[noreturn]] inline void skip(const std::string& why) {
    if (std::getenv("CNNC_UNDER_CTEST")) {
        std::fflush(stdout);
        std::fprintf(stderr, "SKIPPED: %s\n", why.c_str());
        std::fflush(stderr);
        std::_Exit(77);
    }
    FAIL("cannot run here (reported as skipped under CTest): " << why);
    std::abort();  // not reached: FAIL throws
}

inline std::unique_ptr<Compilation> compile(const std::string& text) {
    FrontendOptions o;
    o.import_dirs = {root() + "/stdlib"};
    return compile_text(text, "test.cnn", o);
}

inline std::unique_ptr<Compilation> compile_repo_file(const std::string& rel) {
    FrontendOptions o;
    o.import_dirs = {root() + "/stdlib"};
    return compile_file(root() + "/" + rel, o);
}

// Fails the test with the diagnostics shown when there are any.
inline void require_ok(const Compilation& c) {
    INFO(c.diags.render());
    REQUIRE_FALSE(c.diags.has_errors());
}

// The error headlines without the file path: "3:5: error: ...".
inline std::vector<std::string> errors(const Compilation& c) {
    std::vector<std::string> out;
    for (const auto& h : c.diags.headlines()) {
        auto p = h.find(": error: ");
        if (p == std::string::npos) continue;
        auto colon = h.rfind(':', h.rfind(':', p - 1) - 1);
        out.push_back(h.substr(colon + 1));
    }
    return out;
}

// A command's exit status and its stdout and stderr together.
struct CommandResult {
    int status;
    std::string output;
};
// Runs a shell command line, capturing its output.
inline CommandResult run_shell(const std::string& command) {
    std::string cmd = command + " 2>&1";
    FILE* f = popen(cmd.c_str(), "r");
    REQUIRE(f);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    int st = pclose(f);
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

// Runs the cnnc binary with `args` (in `dir`, with `env` assignments, when given).
inline CommandResult run_cnnc(const std::string& args, const std::string& dir = "", const std::string& env = "") {
    return run_shell((dir.empty() ? "" : "cd '" + dir + "' && ") + (env.empty() ? "" : env + " ") + std::string(CNNC_BINARY) + " " + args);
}

}  // namespace cnnc::test
