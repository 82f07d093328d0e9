#include "train/Init.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "Error.h"

namespace cnnc::rt {

double Rng::normal() {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

void compute_fans(const Dims& shape, double& fan_in, double& fan_out) {
    if (shape.size() < 1) {
        fan_in = fan_out = 1;
    } else if (shape.size() == 1) {
        fan_in = fan_out = static_cast<double>(shape[0]);
    } else if (shape.size() == 2) {
        fan_in = static_cast<double>(shape[0]);
        fan_out = static_cast<double>(shape[1]);
    } else {
        double rf = 1;
        for (size_t i = 0; i + 2 < shape.size(); ++i) rf *= static_cast<double>(shape[i]);
        fan_in = static_cast<double>(shape[shape.size() - 2]) * rf;
        fan_out = static_cast<double>(shape.back()) * rf;
    }
}

// Keras' truncated normal: redraw outside two standard deviations.
static double truncated_draw(Rng& rng, double stddev) {
    for (;;) {
        double z = rng.normal();
        if (std::fabs(z) <= 2.0) return z * stddev;
    }
}

void random_uniform(Tensor& t, double limit, Rng& rng) {
    for (int64_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(rng.uniform(-limit, limit));
}

void random_normal(Tensor& t, double stddev, Rng& rng) {
    for (int64_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(rng.normal() * stddev);
}

void truncated_normal(Tensor& t, double stddev, Rng& rng) {
    for (int64_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(truncated_draw(rng, stddev));
}

// Glorot's scale 1 over the mean fan is written as scale 2 over the fans' sum (FanMode::Average).
void variance_scaling(Tensor& t, double scale, FanMode mode, bool uniform, Rng& rng) {
    double fan_in, fan_out;
    compute_fans(t.shape(), fan_in, fan_out);
    const double fan = mode == FanMode::In ? fan_in : fan_in + fan_out;
    const double var = (mode == FanMode::In ? scale : 2 * scale) / std::max(1.0, fan);
    if (uniform) random_uniform(t, std::sqrt(3.0 * var), rng);
    else truncated_normal(t, std::sqrt(var) / 0.87962566103423978, rng);
}

// keras.initializers.Orthogonal (gain 1): the weight flattened to rows = prod(shape[:-1]) and
// cols = shape[-1]; a (max, min) matrix of standard normals; the Q of its QR decomposition with R's
// diagonal made positive, transposed when rows < cols. Modified Gram-Schmidt gives that Q directly
// (its R has a positive diagonal), in double.
void orthogonal(Tensor& t, Rng& rng) {
    const Dims& shape = t.shape();
    if (shape.size() < 2) throw UserError("the orthogonal initializer needs a weight of 2 or more dimensions (Keras: the same)");
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
    const int64_t cols = shape.back();
    const int64_t m = std::max(rows, cols), k = std::min(rows, cols);
    std::vector<double> q(static_cast<size_t>(m * k));  // column j at q[j*m .. j*m+m)
    for (double& x : q) x = rng.normal();
    for (int64_t j = 0; j < k; ++j) {
        double* c = &q[static_cast<size_t>(j * m)];
        for (int64_t i = 0; i < j; ++i) {
            const double* b = &q[static_cast<size_t>(i * m)];
            double dot = 0;
            for (int64_t r = 0; r < m; ++r) dot += b[r] * c[r];
            for (int64_t r = 0; r < m; ++r) c[r] -= dot * b[r];
        }
        double norm = 0;
        for (int64_t r = 0; r < m; ++r) norm += c[r] * c[r];
        norm = std::sqrt(norm);
        for (int64_t r = 0; r < m; ++r) c[r] /= norm;
    }
    // Q is m x k; the weight (rows x cols) is Q when rows >= cols, Q transposed otherwise.
    float* p = t.data();
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
            p[r * cols + c] = static_cast<float>(rows >= cols ? q[static_cast<size_t>(c * m + r)] : q[static_cast<size_t>(r * m + c)]);
}

}  // namespace cnnc::rt
