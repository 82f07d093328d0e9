// Placeholder ops for the merge family, so the tree links while the layer records land first;
// h/engine replaces this file with the real ops.
#include <stdexcept>

#include "lower/Lowering.h"

namespace cnnc::engine {

#define CNNC_MERGE_PLACEHOLDER(N) \
    std::unique_ptr<rt::Op> lower_##N(const LowerContext&) { throw std::logic_error("merge ops come from h/engine"); }
CNNC_MERGE_PLACEHOLDER(Add)
CNNC_MERGE_PLACEHOLDER(Subtract)
CNNC_MERGE_PLACEHOLDER(Multiply)
CNNC_MERGE_PLACEHOLDER(Average)
CNNC_MERGE_PLACEHOLDER(Maximum)
CNNC_MERGE_PLACEHOLDER(Minimum)
CNNC_MERGE_PLACEHOLDER(Concatenate)
#undef CNNC_MERGE_PLACEHOLDER

}  // namespace cnnc::engine
