// Name resolution and checking of parsed files into a Program: declarations collected across
// imports, models expanded and shape-checked, datasets, callbacks, train and evaluate statements
// resolved and checked against each other. Reports every error it can find; never throws on user
// input.
#pragma once
#include <vector>

#include "diag/Diagnostics.h"
#include "sema/Program.h"
#include "syntax/Ast.h"

namespace cnnc {

Program check_program(const std::vector<ast::File>& files, Diagnostics& diags);

}  // namespace cnnc
