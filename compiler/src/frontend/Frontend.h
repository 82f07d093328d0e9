// Loads a .cnn file and everything it imports, parses and checks it: the shared front half of every
// cnnc command (check, summary, run, build) and of the tests and fuzzer.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "diag/Diagnostics.h"
#include "frontend/DataPaths.h"
#include "sema/Program.h"
#include "syntax/Ast.h"

namespace cnnc {

struct Compilation {
    SourceManager sources;
    Diagnostics diags{sources};
    std::vector<ast::File> files;  // the main file first, then imports in the order met
    Program program;
    bool ok() const { return !diags.has_errors(); }
};

struct FrontendOptions {
    std::vector<std::string> import_dirs;  // searched after the importing file's own directory
    // Source files by path, read instead of the disk (a `cnnc build` executable carries the model
    // file and its imports this way). With `embedded_only`, nothing is read from the disk.
    const std::map<std::string, std::string>* embedded = nullptr;
    bool embedded_only = false;
    // Whether the data and weights files the statements read must exist (see DataPaths.h). Checked
    // only once the file itself has no errors: a missing file is a fact about this machine, and
    // the file's own mistakes come first.
    DataPathCheck data_paths = DataPathCheck::None;
};

// The standard library directories: $CNNC_STDLIB, then <exe>/../share/cnnc/stdlib, then the
// source tree's stdlib/ (for a build that was not installed).
std::vector<std::string> default_import_dirs();

std::unique_ptr<Compilation> compile_file(const std::string& path, const FrontendOptions& opts = {});
std::unique_ptr<Compilation> compile_text(const std::string& text, const std::string& name = "<input>",
                                          const FrontendOptions& opts = {});

}  // namespace cnnc
