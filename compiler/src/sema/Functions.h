// Functions a .cnn file may call on numbers at compile time, inside a block's arguments and
// conditions: what Keras' applications compute from their own arguments (MobileNetV2's filter
// counts from `alpha`). The list is kept to what those need.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "ir/Schema.h"

namespace cnnc {

struct Function {
    std::string name;
    std::vector<ParamSpec> params;
    std::function<Value(const BoundArgs&, SrcLoc)> apply;  // on arguments bound to `params`
    std::string doc;
};

const std::vector<Function>& all_functions();
const Function* find_function(const std::string& name);

}  // namespace cnnc
