// The border ZeroPadding2D adds and Cropping2D removes, in Keras' three spellings: an int (every
// side), a pair (height, width), each symmetric or itself a pair, or ((top, bottom), (left, right)).
// Its op (Op.cpp) reads the same argument through border().
#pragma once
#include <string>

#include "ir/Value.h"

namespace cnnc {

struct Border {
    int64_t top = 0, bottom = 0, left = 0, right = 0;
};

// Why `v` is not a border in one of Keras' spellings, or has a negative side; "" when it is one.
std::string check_border(const Value& v, const char* arg);
// The border `v` spells; `v` has passed check_border.
Border border(const Value& v);

}  // namespace cnnc
