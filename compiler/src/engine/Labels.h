// A dataset's integer labels turned into the targets its loss compares with the model's output.
#pragma once
#include <cstdint>
#include <vector>

#include "builtins/Builtins.h"
#include "sema/Program.h"
#include "tensor/Tensor.h"

namespace cnnc::engine {

// Targets as the dataset's `labels` declare them (the loss's own encoding when it does not): rows
// of k for one_hot(k), else one class index or 0/1 value per sample, as Keras' label modes give
// them. The checker has let through only the pairs Keras accepts (LossKind::labels_fit), so mse
// against one_hot(k) compares with the one-hot row, not the class id.
rt::Tensor encode_labels(const std::vector<int32_t>& labels, const Dataset& ds, const LossKind& loss);

}  // namespace cnnc::engine
