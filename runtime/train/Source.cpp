#include "train/Source.h"

#include <cstring>

namespace cnnc::rt {

namespace {
// Rows `ids` of `t` into `out`, which is resized to (ids.size(), t's sample shape...).
void gather_rows(const Tensor& t, const std::vector<int64_t>& ids, Tensor& out) {
    Dims d = t.shape();
    const int64_t row = t.size() / d[0];
    d[0] = static_cast<int64_t>(ids.size());
    out.resize(d);
    for (size_t i = 0; i < ids.size(); ++i)
        std::memcpy(out.data() + static_cast<int64_t>(i) * row, t.data() + ids[i] * row, static_cast<size_t>(row) * sizeof(float));
}
}  // namespace

void MemorySource::fetch(const std::vector<int64_t>& ids, Batch& into) {
    into.x.resize(1);
    into.y.resize(1);
    gather_rows(s_.x, ids, into.x[0]);
    gather_rows(s_.y, ids, into.y[0]);
    into.size = static_cast<int64_t>(ids.size());
}

}  // namespace cnnc::rt
