#include "train/Source.h"

#include <cstring>

namespace cnnc::rt {

void gather_rows(const Tensor& t, const std::vector<int64_t>& ids, Tensor& out) {
    Dims d = t.shape();
    const int64_t row = t.size() / d[0];
    d[0] = static_cast<int64_t>(ids.size());
    out.resize(d);
    for (size_t i = 0; i < ids.size(); ++i)
        std::memcpy(out.data() + static_cast<int64_t>(i) * row, t.data() + ids[i] * row, static_cast<size_t>(row) * sizeof(float));
}

void MemorySource::fetch(const std::vector<int64_t>& ids, Batch& into) {
    into.x.resize(s_.x.size());
    into.y.resize(s_.y.size());
    for (size_t k = 0; k < s_.x.size(); ++k) gather_rows(s_.x[k], ids, into.x[k]);
    for (size_t k = 0; k < s_.y.size(); ++k) gather_rows(s_.y[k], ids, into.y[k]);
    into.size = static_cast<int64_t>(ids.size());
}

}  // namespace cnnc::rt
