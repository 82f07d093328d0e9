#include "tensor/Tensor.h"

#include <algorithm>

namespace cnnc::rt {

std::string dims_str(const Dims& d) {
    std::string s = "(";
    for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
    if (d.size() == 1) s += ",";
    return s + ")";
}

View View::reshaped(Dims s) const {
    if (product(s) != size()) throw std::logic_error("internal: reshape " + dims_str(shape) + " to " + dims_str(s));
    return {data, std::move(s)};
}

View View::rows(int64_t begin, int64_t end) const {
    Dims s = shape;
    int64_t row = size() / (shape.empty() || shape[0] == 0 ? 1 : shape[0]);
    s[0] = end - begin;
    return {data + begin * row, s};
}

void Tensor::resize(Dims shape) {
    int64_t n = product(shape);
    if (n > capacity_) {
        // 64-byte alignment: whole cache lines and aligned AVX-512 vectors for the kernels.
        size_t bytes = (static_cast<size_t>(std::max<int64_t>(n, 1)) * sizeof(float) + 63) / 64 * 64;
        float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
        if (!p) throw std::bad_alloc();
        mem_.reset(p);
        capacity_ = n;
    }
    shape_ = std::move(shape);
}

void Tensor::fill(float v) { std::fill(data(), data() + size(), v); }

}  // namespace cnnc::rt
