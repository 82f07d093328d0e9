// `cnnc dump ast|program|kernels FILE`: one stage of the compiler printed, as MLIR Toy's `-emit=`
// does: the syntax tree (syntax/AstDump.h), the checked program (sema/ProgramDump.h), or the
// kernels a run would compile (engine/KernelList.h). The text is deterministic, with no absolute
// paths, so tests/golden/dump/ pins it.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "app/Cli.h"
#include "frontend/Frontend.h"

namespace cnnc::app {

enum class Stage { Ast, Program, Kernels };

struct DumpFlags {
    Stage stage = Stage::Ast;
    std::string file;
};

// Adds the `dump` command's arguments to `cmd`, read into `f` (and completed by `cli`).
void add_dump_args(Cli& cli, CLI::App* cmd, DumpFlags& f);
// Compiles f.file and prints the stage; a file with errors gets its diagnostics and exit code 1.
int dump(const DumpFlags& f, const FrontendOptions& o);

}  // namespace cnnc::app
