#include "train/DataParallel.h"

#include <algorithm>
#include <cstring>

#include "Error.h"

namespace cnnc::rt {

std::vector<std::vector<int64_t>> DataParallel::local(const std::vector<std::vector<int64_t>>& global) const {
    std::vector<std::vector<int64_t>> out;
    out.reserve(global.size());
    for (const auto& ids : global) {
        Shard s = shard(static_cast<int64_t>(ids.size()), w_.rank(), w_.size());
        out.emplace_back(ids.begin() + s.begin, ids.begin() + s.end);
    }
    return out;
}

std::vector<std::vector<int64_t>> DataParallel::nonempty(std::vector<std::vector<int64_t>> batches) {
    batches.erase(std::remove_if(batches.begin(), batches.end(), [](const auto& b) { return b.empty(); }), batches.end());
    return batches;
}

int64_t DataParallel::first_sample(int64_t size) const { return shard(size, w_.rank(), w_.size()).begin; }

void DataParallel::sum_gradients(const std::vector<Param*>& params, int64_t local, int64_t global) {
    if (!active()) return;
    size_t n = 0;
    for (const Param* p : params)
        if (p->trainable) n += static_cast<size_t>(p->grad.size());
    bucket_.resize(n);
    const float scale = static_cast<float>(static_cast<double>(local) / static_cast<double>(global));
    size_t at = 0;
    for (const Param* p : params) {
        if (!p->trainable) continue;
        const float* g = p->grad.data();
        // A rank without samples this step (a last batch smaller than the world) ran no backward.
        for (int64_t i = 0; i < p->grad.size(); ++i) bucket_[at + static_cast<size_t>(i)] = local ? g[i] * scale : 0.f;
        at += static_cast<size_t>(p->grad.size());
    }
    w_.allreduce_sum(bucket_.data(), n);
    at = 0;
    for (Param* p : params) {
        if (!p->trainable) continue;
        std::memcpy(p->grad.data(), bucket_.data() + at, static_cast<size_t>(p->grad.size()) * sizeof(float));
        at += static_cast<size_t>(p->grad.size());
    }
}

void DataParallel::sum(std::vector<double>& values) const {
    if (active()) w_.allreduce_sum(values.data(), values.size());
}

void DataParallel::average_state(const std::vector<Param*>& params) const {
    if (!active()) return;
    for (Param* p : params) {
        if (!p->state) continue;
        w_.allreduce_sum(p->value.data(), static_cast<size_t>(p->value.size()));
        for (int64_t i = 0; i < p->value.size(); ++i) p->value[i] /= static_cast<float>(w_.size());
    }
}

void DataParallel::check_replicas(const std::vector<Param*>& params, int64_t epoch) const {
    if (!active()) return;
    // FNV-1a over the weights' bits, kept to 52 bits so that a double carries it exactly.
    uint64_t h = 1469598103934665603ull;
    for (const Param* p : params) {
        if (p->state) continue;
        const auto* bytes = reinterpret_cast<const unsigned char*>(p->value.data());
        for (size_t i = 0; i < static_cast<size_t>(p->value.size()) * sizeof(float); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
    }
    double mine = static_cast<double>(h >> 12), first = mine;
    w_.broadcast(&first, 1, 0);
    if (mine != first)
        throw UserError("rank " + std::to_string(w_.rank()) + "'s weights differ from rank 0's after epoch " + std::to_string(epoch) +
                        " (a bug: every rank applies the same update)");
}

}  // namespace cnnc::rt
