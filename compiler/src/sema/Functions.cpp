#include "sema/Functions.h"

#include <algorithm>
#include <cmath>

namespace cnnc {

// Python's int(): towards zero. The schema bounds keep the result in 64-bit range.
static int64_t truncate(double x) { return static_cast<int64_t>(std::trunc(x)); }

// keras.applications' _make_divisible (from the TensorFlow models' MobileNet code): the nearest
// multiple of `divisor`, at least `min_value` (the divisor when None), and never more than 10%
// below `value`.
static int64_t make_divisible(double value, int64_t divisor, int64_t min_value) {
    int64_t v = std::max(min_value, truncate(value + static_cast<double>(divisor) / 2) / divisor * divisor);
    if (static_cast<double>(v) < 0.9 * value) v += divisor;
    return v;
}

static constexpr double kLargest = 1e15;  // well inside int64 and exact in a double

const std::vector<Function>& all_functions() {
    static const std::vector<Function> list = {
        {"int",
         {required("x", ArgType::Float).min(-kLargest).max(kLargest)},
         [](const BoundArgs& a, SrcLoc at) { return Value::integer(truncate(a.number("x")), at); },
         "a number rounded towards zero, as Python's int(): int(2.7) is 2"},
        {"make_divisible",
         {required("value", ArgType::Float).min(0).max(kLargest), required("divisor", ArgType::Int).min(1).max(kLargest),
          optional("min_value", ArgType::Int, none()).min(1).max(kLargest)},
         [](const BoundArgs& a, SrcLoc at) {
             int64_t divisor = a.integer("divisor");
             int64_t least = a.is_none("min_value") ? divisor : a.integer("min_value");
             return Value::integer(make_divisible(a.number("value"), divisor, least), at);
         },
         "keras.applications' _make_divisible: value rounded to the nearest multiple of divisor, at least min_value "
         "(default: divisor) and at least 90% of value; MobileNet's channel counts"},
    };
    return list;
}

const Function* find_function(const std::string& name) {
    for (const Function& f : all_functions())
        if (f.name == name) return &f;
    return nullptr;
}

}  // namespace cnnc
