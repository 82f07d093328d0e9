// Evaluates argument expressions: substitutes block parameters and repeat indices, folds
// arithmetic (1/255, filters * 2), comparisons, `and`/`or`/`not` and the compile-time functions
// (sema/Functions.h), and interpolates {name} in strings ("block{stage}_conv{i}").
#pragma once
#include <map>
#include <optional>
#include <string>

#include "diag/Diagnostics.h"
#include "ir/Value.h"
#include "syntax/Ast.h"

namespace cnnc {

using Env = std::map<std::string, Value>;

// nullopt after reporting an error (a type error in arithmetic, division by zero).
std::optional<Value> eval(const ast::Expr& e, const Env& env, Diagnostics& diags);
std::optional<std::vector<NamedValue>> eval_args(const std::vector<ast::Arg>& args, const Env& env, Diagnostics& diags);

// An `if` statement's condition: true or false, or nullopt after reporting (a condition that is not
// a boolean, or a name that is neither a parameter nor a repeat index where a value is tested).
std::optional<bool> eval_condition(const ast::Expr& e, const Env& env, Diagnostics& diags);

}  // namespace cnnc
