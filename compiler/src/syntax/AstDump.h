// `cnnc dump ast`: the syntax tree of a parsed file as an indented tree, one node a line, each with
// its source position (@line:col), so a reader sees exactly what the parser built.
#pragma once
#include <string>

#include "syntax/Ast.h"

namespace cnnc {

// Every declaration of `f` and everything inside it. `name` heads the dump (the file's name, as
// the caller wants it shown: no absolute paths, so the text is the same on every machine).
std::string dump_ast(const ast::File& f, const std::string& name);

}  // namespace cnnc
