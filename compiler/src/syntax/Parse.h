// Text to AST: runs the ANTLR-generated lexer and parser, reports syntax errors as diagnostics
// (all of them, with ANTLR's error recovery), and walks the parse tree into ast::File.
#pragma once
#include "diag/Diagnostics.h"
#include "syntax/Ast.h"

namespace cnnc {

// Parses the file registered as `file_id` in the diagnostics' source manager. On syntax errors the
// returned AST holds whatever could be recovered; callers check diags.has_errors().
ast::File parse_file(int file_id, Diagnostics& diags);

}  // namespace cnnc
