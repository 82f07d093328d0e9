// `cnnc build`: a model file compiled into one native executable. Every kernel the file's commands
// can use (found by preparing its networks without running them) is compiled ahead of time for each
// target variant; a generated entry point carries them, the model file and its imports
// (app/Bundle.h); and the linker joins it with the Halide-free libraries (ops, runtime, front end)
// and static builds of their dependencies. The result needs only the C library at run time.
#pragma once
#include <string>
#include <vector>

namespace cnnc::engine {

struct BuildOptions {
    std::string output;                  // default: the model file's name without .cnn
    std::string targets = "portable";    // see variants_for (Aot.h)
    std::vector<std::string> import_dirs;
    std::string tune;  // --tune: the host variant's schedules measured here (driver/Tune.h); "" = $CNNC_TUNE or quick
};

// Prints progress and errors; returns the process exit code (1 for the user's errors).
int build_executable(const std::string& file, const BuildOptions& o);

}  // namespace cnnc::engine
