// features(model, data): a dataset member run once through a (frozen) model, whose outputs become
// the samples while the labels stay; the seed's feature extraction with a frozen VGG16 base.
#pragma once
#include <string>

#include "data/Table.h"
#include "net/Network.h"
#include "sema/Program.h"

namespace cnnc::engine {

// The samples of `in` run through `net` (model `m`'s network, prepared for inference with batch
// kFeatureBatch); `what` names the data in the progress line.
constexpr int64_t kFeatureBatch = 64;
rt::LabeledRows extract_features(const Model& m, rt::Network& net, rt::LabeledRows in, const std::string& what);

}  // namespace cnnc::engine
