// Tuning as `cnnc run` and `cnnc build` do it (kernels/Tuner.h): the level from --tune or
// $CNNC_TUNE (default quick), the batch from the file's first train statement, the schedules kept
// in the kernel cache's directory, and one line saying what it cost and gained.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "frontend/Frontend.h"
#include "kernels/Tuner.h"

namespace cnnc::driver {

// --tune's value, else $CNNC_TUNE, else quick. Throws std::invalid_argument for another word.
engine::TuneLevel tune_level(const std::string& option);

// The schedules of `specs` on this CPU: read from its book, the missing ones measured now (not
// in a rank of an MPI job: ranks only read what a single process measured). Prints the report
// line to stdout when anything was measured.
std::map<std::string, engine::KernelSpec> tune_for(const Compilation& c, const std::vector<engine::KernelSpec>& specs, engine::TuneLevel level,
                                                   engine::TuneReport& report);

}  // namespace cnnc::driver
