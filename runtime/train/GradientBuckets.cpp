#include "train/GradientBuckets.h"

#include <cstring>

namespace cnnc::rt {

GradientBuckets::GradientBuckets(Collective& w, const std::vector<Param*>& params, size_t bucket_bytes) : w_(w), bucket_bytes_(bucket_bytes) {
    size_t at = 0;
    for (auto it = params.rbegin(); it != params.rend(); ++it) {  // backward's order
        Param* p = *it;
        if (!p->trainable) continue;
        if (buckets_.empty() || (bucket_bytes_ > 0 && (buckets_.back().end - buckets_.back().begin) * sizeof(float) >= bucket_bytes_))
            buckets_.push_back(Bucket{at, at, 0});
        slot_of_[p] = slots_.size();
        slots_.push_back(Slot{p, at, buckets_.size() - 1, false});
        at += static_cast<size_t>(p->grad.size());
        buckets_.back().end = at;
    }
    buffer_.resize(at);
}

void GradientBuckets::begin(int64_t local, int64_t global) {
    scale_ = static_cast<float>(static_cast<double>(local) / static_cast<double>(global));
    any_ = local > 0;
    next_ = 0;
    for (Slot& s : slots_) s.filled = false;
    for (Bucket& b : buckets_) b.missing = 0;
    for (const Slot& s : slots_) ++buckets_[s.bucket].missing;
}

void GradientBuckets::fill(Slot& s) {
    const float* g = s.param->grad.data();
    float* out = buffer_.data() + s.at;
    const size_t n = static_cast<size_t>(s.param->grad.size());
    // A rank without samples this step ran no backward: it adds zeros.
    for (size_t i = 0; i < n; ++i) out[i] = any_ ? g[i] * scale_ : 0.f;
    s.filled = true;
    --buckets_[s.bucket].missing;
}

void GradientBuckets::start_ready() {
    for (; next_ < buckets_.size() && buckets_[next_].missing == 0; ++next_)
        w_.start_sum(buffer_.data() + buckets_[next_].begin, buckets_[next_].end - buckets_[next_].begin);
}

GradientsDone GradientBuckets::on_done() {
    if (bucket_bytes_ == 0) return {};
    return [this](std::vector<Param>& params) {
        for (Param& p : params) {
            auto it = slot_of_.find(&p);
            if (it != slot_of_.end() && !slots_[it->second].filled) fill(slots_[it->second]);
        }
        start_ready();
        w_.progress();
    };
}

void GradientBuckets::finish() {
    for (Slot& s : slots_)
        if (!s.filled) fill(s);
    start_ready();
    w_.wait_all();
    for (const Slot& s : slots_)
        std::memcpy(s.param->grad.data(), buffer_.data() + s.at, static_cast<size_t>(s.param->grad.size()) * sizeof(float));
}

}  // namespace cnnc::rt
