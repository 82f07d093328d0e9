// A tensor shape without its batch axis: (26, 26, 32) for a conv output. Printed as Keras prints it,
// with `None` for the batch: (None, 26, 26, 32).
#pragma once
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cnnc {

struct Shape {
    std::vector<int64_t> dims;

    Shape() = default;
    Shape(std::initializer_list<int64_t> d) : dims(d) {}
    explicit Shape(std::vector<int64_t> d) : dims(std::move(d)) {}

    size_t rank() const { return dims.size(); }
    int64_t operator[](size_t k) const { return dims[k]; }
    int64_t back() const { return dims.back(); }
    // Saturates at INT64_MAX instead of overflowing, so absurd shapes can be reported as too large.
    int64_t elements() const {
        int64_t n = 1;
        for (int64_t d : dims)
            if (__builtin_mul_overflow(n, d, &n)) return INT64_MAX;
        return n;
    }
    bool operator==(const Shape& o) const { return dims == o.dims; }
    bool operator!=(const Shape& o) const { return dims != o.dims; }

    std::string str(bool with_batch = true) const {
        std::string s = with_batch ? "(None" : "(";
        for (size_t k = 0; k < dims.size(); ++k) s += (with_batch || k ? ", " : "") + std::to_string(dims[k]);
        if (!with_batch && dims.size() == 1) s += ",";
        return s + ")";
    }
};

}  // namespace cnnc

template <>
struct fmt::formatter<cnnc::Shape> : fmt::formatter<std::string> {
    template <class Ctx>
    auto format(const cnnc::Shape& s, Ctx& ctx) const {
        return fmt::formatter<std::string>::format(s.str(), ctx);
    }
};
