// BatchNormalization and LayerNormalization as ops: placeholders until their kernels land.
#include <stdexcept>

#include "lower/Lowering.h"

namespace cnnc::engine {

std::unique_ptr<rt::Op> lower_BatchNormalization(const LowerContext&) {
    throw std::logic_error("normalization ops come from h/norm");
}

std::unique_ptr<rt::Op> lower_LayerNormalization(const LowerContext&) {
    throw std::logic_error("normalization ops come from h/norm");
}

}  // namespace cnnc::engine
