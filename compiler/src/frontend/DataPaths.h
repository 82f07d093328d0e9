// The files a program's statements will read (data sources, pretrained weights), found before any
// is read: `cnnc check`, `run` and `evaluate` report a missing one as a located error, where the
// file names it. `cnnc summary` does not look (a summary needs no data).
#pragma once
#include <string>

#include "diag/Diagnostics.h"
#include "sema/Program.h"

namespace cnnc {

// Which statements' files must exist: those `cnnc run` reads (train and evaluate), or those
// `cnnc evaluate` reads (evaluate only).
enum class DataPathCheck { None, Run, Evaluate };

// A data path as the run opens it: as written when it exists (or its .gz) relative to the working
// directory, as in a Keras script; failing that, beside the model file; failing both, as written.
std::string resolve_data_path(const std::string& path, const std::string& model_file);

void check_data_paths(const Program& prog, const std::string& model_file, DataPathCheck which, Diagnostics& diags);

}  // namespace cnnc
