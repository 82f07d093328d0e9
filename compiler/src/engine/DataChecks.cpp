#include "engine/DataChecks.h"

#include <fmt/format.h>

#include <cmath>

#include "Error.h"

namespace cnnc::engine {

std::string DataOrigin::sample(int64_t i) const {
    if (i < static_cast<int64_t>(lines.size())) return fmt::format("line {}", lines[static_cast<size_t>(i)]);
    return fmt::format("sample {} (counting from 0)", i);
}

void check_labels(const std::vector<int32_t>& labels, const DataOrigin& origin, const Dataset& ds, const LossKind& loss,
                  const Model& m, const std::string& statement) {
    // The exclusive upper bound and what sets it; none for a regression loss on unencoded labels.
    int64_t hi = -1;
    std::string why;
    if (ds.labels == "binary" || loss.labels == "binary") {
        hi = 2, why = ds.labels == "binary" ? "labels = binary" : loss.name;
    } else if (ds.labels == "one_hot") {
        hi = ds.classes, why = fmt::format("labels = one_hot({})", ds.classes);
    } else if ((loss.labels == "int" || loss.labels == "one_hot") && m.shaped) {
        hi = m.output().back(), why = fmt::format("{} with {} output units", loss.name, hi);
    }
    for (size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] >= 0 && (hi < 0 || labels[i] < hi)) continue;
        std::string range = hi < 0 ? "a label must not be negative" : fmt::format("{} allows 0..{}", why, hi - 1);
        throw rt::UserError(fmt::format("{}: {}: label {} is out of range ({}); used by {}", origin.labels,
                                        origin.sample(static_cast<int64_t>(i)), labels[i], range, statement));
    }
}

// The Embedding the model's input goes into first, if any: the first leaf layer, blocks entered.
static const LayerNode* first_embedding(const std::vector<LayerNode>& layers) {
    if (layers.empty()) return nullptr;
    const LayerNode& first = layers.front();
    if (first.is_group()) return first_embedding(first.children);
    return first.kind->name == "Embedding" ? &first : nullptr;
}

bool takes_token_ids(const Model& m) { return first_embedding(m.layers) != nullptr; }

void check_token_ids(const Model& m, const rt::Tensor& x, const DataOrigin& origin, const std::string& statement) {
    const LayerNode* emb = first_embedding(m.layers);
    if (!emb || x.shape().empty()) return;
    const int64_t vocab = emb->args.integer("input_dim"), n = x.shape()[0], per = x.size() / std::max<int64_t>(n, 1);
    for (int64_t i = 0; i < x.size(); ++i) {
        double v = x[i];  // as a double, fmt shows the float 999999995904 as it is rather than as 1e+12
        if (v >= 0 && v < static_cast<double>(vocab) && v == std::floor(v)) continue;
        throw rt::UserError(fmt::format("{}: {}: token id {} is not in 0..{}, the vocabulary of {} '{}' (input_dim = {}) in "
                                        "model '{}'; used by {}",
                                        origin.inputs, origin.sample(i / per), v, vocab - 1, emb->type, emb->name, vocab,
                                        m.name, statement));
    }
}

}  // namespace cnnc::engine
