// Binding a call's arguments to a schema (ir/Schema.h): the checker's part of argument handling.
// It lives above builtins/ because activation, initializer and regularizer arguments are checked
// against their lists there.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "diag/Diagnostics.h"
#include "ir/Schema.h"

namespace cnnc {

// Binds call arguments to a schema (positional in order, then keywords), reporting every problem.
// `what` names the callee in messages ("Conv2D", "optimizer adam"). Returns nullopt on any error.
std::optional<BoundArgs> bind_args(const std::vector<ParamSpec>& params, const std::vector<NamedValue>& args,
                                   const std::string& what, SrcLoc call_loc, Diagnostics& diags);

// Checks and normalises one value against one parameter; used by bind_args and for fields.
bool check_value(const ParamSpec& p, Value& v, const std::string& what, Diagnostics& diags);

}  // namespace cnnc
