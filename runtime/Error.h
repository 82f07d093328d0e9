// Errors the user can fix (a missing or corrupt data file, a NaN loss, a weights file that does
// not match) are UserError: cnnc prints the message and exits 1. Anything else escaping to main is
// a bug in cnnc.
#pragma once
#include <stdexcept>
#include <string>

namespace cnnc::rt {

struct UserError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace cnnc::rt
