// Errors the user can fix (a missing or corrupt data file, a NaN loss, a weights file that does
// not match) are UserError: cnnc prints the message and exits 1. Anything else escaping to main is
// a bug in cnnc.
#pragma once
#include <stdexcept>
#include <string>

namespace cnnc::rt {

struct UserError : std::runtime_error {
    using std::runtime_error::runtime_error;
    // Where the model file names what failed (the dataset member naming a data file), when known:
    // cnnc prints it as file:line:col with the line and a caret. Plain numbers (the compiler's
    // SrcLoc), so the runtime needs nothing of the compiler; file < 0: not known.
    struct Where {
        int file = -1, line = 0, col = 0, len = 1;
    } where;
};

}  // namespace cnnc::rt
