// The runtime's tensor: float32, dense, row-major in Keras' axis order with the batch first
// (NHWC for images), 64-byte aligned. `Tensor` owns its storage; `View` borrows it, so a Flatten or
// a batch slice costs nothing.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace cnnc::rt {

using Dims = std::vector<int64_t>;

inline int64_t product(const Dims& d) {
    int64_t n = 1;
    for (int64_t x : d) n *= x;
    return n;
}

std::string dims_str(const Dims& d);  // "(64, 28, 28, 1)"

struct View {
    float* data = nullptr;
    Dims shape;
    int64_t size() const { return product(shape); }
    float& operator[](int64_t i) const { return data[i]; }
    // The same storage under another shape with the same number of elements.
    View reshaped(Dims s) const;
    // Rows [begin, end) of the leading (batch) axis.
    View rows(int64_t begin, int64_t end) const;
};

class Tensor {
  public:
    Tensor() = default;
    explicit Tensor(Dims shape) { resize(std::move(shape)); }
    Tensor(const Tensor& o) : Tensor(o.shape_) { std::copy(o.data(), o.data() + size(), data()); }
    Tensor& operator=(const Tensor& o) {
        if (this != &o) {
            resize(o.shape_);
            std::copy(o.data(), o.data() + size(), data());
        }
        return *this;
    }
    Tensor(Tensor&&) = default;
    Tensor& operator=(Tensor&&) = default;

    // Reallocates only when growing; contents are unspecified after a resize that grows.
    void resize(Dims shape);
    void fill(float v);
    float* data() { return mem_.get(); }
    const float* data() const { return mem_.get(); }
    const Dims& shape() const { return shape_; }
    int64_t size() const { return product(shape_); }
    float& operator[](int64_t i) { return mem_.get()[i]; }
    float operator[](int64_t i) const { return mem_.get()[i]; }
    View view() { return {data(), shape_}; }
    View view() const { return {const_cast<float*>(data()), shape_}; }

  private:
    struct Free {
        void operator()(float* p) const { std::free(p); }
    };
    std::unique_ptr<float, Free> mem_;
    int64_t capacity_ = 0;
    Dims shape_;
};

}  // namespace cnnc::rt
