// Conformance over the initializer list (builtins/Initializers.cpp): every entry the checker
// accepts draws, through its record (train/Init.cpp's formulas), what keras.initializers draws,
// checked on a Dense kernel (64, 32), a Conv2D kernel (3, 3, 16, 32) and a wide kernel (16, 256) by
// its bounds and its variance against Keras 3's formulas in float64. An entry added to the list
// without an implementation, or without a reference here, fails. (`orthogonal` was in the list
// without one, until this test.)
#include <cmath>
#include <functional>
#include <map>

#include "Error.h"
#include "Helpers.h"
#include "builtins/Builtins.h"
#include "train/Init.h"

using namespace cnnc;

namespace {

struct Fans {
    double in, out;
};

// What Keras draws for a weight with these fans: the variance, and the bound every value stays
// within (0: none). Keras' VarianceScaling: variance = scale / fan; a uniform draws within
// sqrt(3 variance); a truncated normal has stddev sqrt(variance) / 0.8796..., cut at 2 stddevs.
struct Expect {
    double variance, bound;
};

Expect scaling(double scale, double fan, bool uniform) {
    const double var = scale / std::max(1.0, fan);
    if (uniform) return {var, std::sqrt(3 * var)};
    return {var, 2 * std::sqrt(var) / 0.87962566103423978};
}

// The variance Keras' truncated normal with stddev s has: s^2 times that of N(0,1) cut at 2.
const double kTruncatedVariance = 0.773741;  // 1 - 2*2*phi(2)/(2*Phi(2)-1), phi/Phi of N(0,1); 0.87962566^2

const std::map<std::string, std::function<Expect(Fans)>>& references() {
    static const std::map<std::string, std::function<Expect(Fans)>> r = {
        {"glorot_uniform", [](Fans f) { return scaling(2, f.in + f.out, true); }},
        {"glorot_normal", [](Fans f) { return scaling(2, f.in + f.out, false); }},
        {"he_uniform", [](Fans f) { return scaling(2, f.in, true); }},
        {"he_normal", [](Fans f) { return scaling(2, f.in, false); }},
        {"lecun_uniform", [](Fans f) { return scaling(1, f.in, true); }},
        {"lecun_normal", [](Fans f) { return scaling(1, f.in, false); }},
        {"zeros", [](Fans) { return Expect{0, 0}; }},
        {"ones", [](Fans) { return Expect{0, 1}; }},
        {"random_uniform", [](Fans) { return Expect{0.05 * 0.05 / 3, 0.05}; }},
        {"random_normal", [](Fans) { return Expect{0.05 * 0.05, 0}; }},
        {"truncated_normal", [](Fans) { return Expect{0.05 * 0.05 * kTruncatedVariance, 0.1}; }},
        // Orthonormal rows or columns: each of the min(rows, cols) unit vectors spreads a total of 1
        // over rows * cols values.
        {"orthogonal", [](Fans) { return Expect{-1, 1}; }},
    };
    return r;
}

}  // namespace

TEST_CASE("every initializer of the list draws what Keras draws", "[builtins][conformance][init]") {
    const std::vector<rt::Dims> shapes = {{64, 32}, {3, 3, 16, 32}, {16, 256}};
    for (const InitializerKind& b : initializers()) {
        INFO("initializer " << b.name);
        auto ref = references().find(b.name);
        REQUIRE(ref != references().end());  // a new entry needs its reference here
        for (const rt::Dims& shape : shapes) {
            INFO("shape " << shape.size() << "-D, " << shape.back() << " outputs");
            rt::Tensor t(shape);
            rt::Rng rng(42);
            REQUIRE_NOTHROW(b.draw(t, rng));
            double fan_in, fan_out;
            rt::compute_fans(shape, fan_in, fan_out);
            const Expect want = ref->second({fan_in, fan_out});
            double sum = 0, sum2 = 0, largest = 0;
            for (int64_t i = 0; i < t.size(); ++i) {
                sum += t[i], sum2 += double(t[i]) * t[i];
                largest = std::max(largest, std::fabs(double(t[i])));
            }
            const double n = static_cast<double>(t.size()), mean = sum / n, var = sum2 / n - mean * mean;
            if (b.name == "ones") {
                CHECK(mean == 1.0);
                CHECK(var == 0.0);
                continue;
            }
            if (b.name == "orthogonal") {
                // W^T W = I when rows >= cols, W W^T = I otherwise (rows = prod(shape[:-1])).
                int64_t cols = shape.back(), rows = t.size() / cols;
                const bool tall = rows >= cols;
                const int64_t k = tall ? cols : rows, m = tall ? rows : cols;
                auto at = [&](int64_t vec, int64_t i) { return double(tall ? t[i * cols + vec] : t[vec * cols + i]); };
                for (int64_t a = 0; a < k; ++a)
                    for (int64_t c = 0; c < k; ++c) {
                        double dot = 0;
                        for (int64_t i = 0; i < m; ++i) dot += at(a, i) * at(c, i);
                        REQUIRE(std::fabs(dot - (a == c ? 1.0 : 0.0)) < 1e-5);
                    }
                continue;
            }
            if (want.bound > 0) CHECK(largest <= want.bound * (1 + 1e-6));
            if (want.variance == 0) {
                CHECK(largest == 0.0);
                continue;
            }
            // A few thousand draws: the variance within 10 %, the mean near 0, and a uniform or a
            // truncated normal reaching close to its bound.
            CHECK(std::fabs(var / want.variance - 1) < 0.1);
            CHECK(std::fabs(mean) < 4 * std::sqrt(want.variance / n) + 1e-12);
            if (want.bound > 0) CHECK(largest > 0.9 * want.bound);
        }
    }
}

TEST_CASE("the orthogonal initializer refuses a weight of one dimension, as Keras does", "[init]") {
    rt::Tensor t(rt::Dims{8});
    rt::Rng rng(1);
    CHECK_THROWS_AS(find_builtin(initializers(), "orthogonal")->draw(t, rng), rt::UserError);
}
