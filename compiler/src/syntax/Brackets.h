// After a syntax error: were brackets left open? A '{' that is never closed makes the parser read
// the next declarations as the body of the open one and report errors about them that have nothing
// to do with the mistake. Matching the brackets of the token stream finds the real one.
#pragma once
#include <vector>

#include "diag/Diagnostics.h"

namespace antlr4 {
class Token;
}

namespace cnnc {

// Reports every '{', '(' or '[' in `tokens` that is never closed ("this '{' is never closed"),
// and every closer without its opener, each with a note at `gave_up`, the parser's first error. A declaration keyword at the start of a line, outside a field, closes
// whatever is still open: the declaration before it lacked its closer. Returns whether it reported.
bool report_unbalanced_brackets(const std::vector<antlr4::Token*>& tokens, int file_id, const Diagnostic& gave_up,
                                Diagnostics& diags);

}  // namespace cnnc
