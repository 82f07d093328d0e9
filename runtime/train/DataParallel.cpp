#include "train/DataParallel.h"

#include <algorithm>
#include <cstdlib>

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

GradientsDone DataParallel::start_gradients(const std::vector<Param*>& params, int64_t local, int64_t global) {
    if (!active()) return {};
    if (!buckets_) {
        const char* env = std::getenv("CNNC_MPI_BUCKET_BYTES");
        buckets_ = std::make_unique<GradientBuckets>(w_, params, env && *env ? std::strtoull(env, nullptr, 10) : kBucketBytes);
    }
    buckets_->begin(local, global);
    return buckets_->on_done();
}

void DataParallel::sum_gradients() {
    if (active()) buckets_->finish();
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
