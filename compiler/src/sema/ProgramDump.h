// `cnnc dump program`: the checked program as the later stages receive it. Blocks are expanded and
// repeats unrolled; every layer shows its bound arguments, defaults included (marked `# default`),
// so a reader sees the value that will be used, with its output shape and parameter count; then
// the datasets, train and evaluate statements with their bound fields.
#pragma once
#include <string>

#include "sema/Program.h"

namespace cnnc {

std::string dump_program(const Program& p);

}  // namespace cnnc
