// Each layer's forward pass against a reference computed here in float64, independently of the
// engine, with Keras 3's (TensorFlow's) rules: 'same' padding puts the odd pixel at the bottom and
// right; 'same' average pooling divides by the cells inside the input; Dense keeps its kernel as
// (in, units) and Conv as (kh, kw, ci, co); Dropout is inverted (kept values x / (1 - rate)).
// Tolerances are a few float32 roundings of the summed terms, far below a 1 % error.
#include <fmt/format.h>

#include <cmath>

#include "EngineHelpers.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

// A built one-layer model with random weights, run forward on a random batch.
struct Run {
    Built b;
    rt::Tensor x;
    rt::View y;
};

Run run_layer(const std::string& input, const std::string& layer, int64_t n, uint64_t seed, bool training = false,
              double lo = -1, double hi = 1) {
    Run r{build(fmt::format("model t {{ input({}) {} }}", input, layer)), {}, {}};
    rt::Rng rng(seed);
    for (rt::Param* p : r.b.net->params()) fill_uniform(p->value.data(), p->value.size(), rng, -1, 1);
    rt::Dims d = {n};
    for (int64_t v : r.b.net->input_shape()) d.push_back(v);
    r.x = rt::Tensor(d);
    fill_uniform(r.x.data(), r.x.size(), rng, lo, hi);
    r.b.net->prepare(n, false);
    r.y = r.b.net->forward(r.x.view(), rt::StepInfo{training, 17, 3});
    return r;
}

// Keras/TensorFlow window geometry along one axis.
struct Axis {
    int64_t in, k, stride, dilation;
    bool same;
    int64_t span() const { return (k - 1) * dilation + 1; }
    int64_t out() const { return same ? (in + stride - 1) / stride : (in - span()) / stride + 1; }
    // 'same': the total padding makes out() windows; the smaller half goes before.
    int64_t pad_before() const { return same ? std::max<int64_t>((out() - 1) * stride + span() - in, 0) / 2 : 0; }
};

// Convolution over (N, H, W, C) with a (kh, kw, ci, co) kernel; Conv1D is height 1.
std::vector<double> conv_reference(const float* x, const float* w, const float* b, int64_t n, int64_t ci, int64_t co, Axis h,
                                   Axis wd, std::vector<double>& magnitude) {
    std::vector<double> y;
    magnitude.clear();
    for (int64_t s = 0; s < n; ++s)
        for (int64_t oy = 0; oy < h.out(); ++oy)
            for (int64_t ox = 0; ox < wd.out(); ++ox)
                for (int64_t o = 0; o < co; ++o) {
                    double acc = b ? b[o] : 0, mag = std::fabs(acc);
                    for (int64_t ky = 0; ky < h.k; ++ky)
                        for (int64_t kx = 0; kx < wd.k; ++kx) {
                            int64_t iy = oy * h.stride + ky * h.dilation - h.pad_before();
                            int64_t ix = ox * wd.stride + kx * wd.dilation - wd.pad_before();
                            if (iy < 0 || iy >= h.in || ix < 0 || ix >= wd.in) continue;  // zero padding
                            for (int64_t c = 0; c < ci; ++c) {
                                double t = double(w[((ky * wd.k + kx) * ci + c) * co + o]) * x[((s * h.in + iy) * wd.in + ix) * ci + c];
                                acc += t, mag += std::fabs(t);
                            }
                        }
                    y.push_back(acc);
                    magnitude.push_back(mag);
                }
    return y;
}

// Float32 sums of a few dozen terms: a few roundings of their magnitude.
void check_sums(const rt::View& y, const std::vector<double>& want, const std::vector<double>& magnitude) {
    REQUIRE(static_cast<size_t>(y.size()) == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        INFO("element " << i << ": engine " << y[static_cast<int64_t>(i)] << ", reference " << want[i]);
        CHECK(std::fabs(y[static_cast<int64_t>(i)] - want[i]) <= 4e-7 * magnitude[i] + 1e-7);
    }
}

struct ConvCase {
    std::string input, layer;
    int64_t ci, co;
    Axis h, w;
};

}  // namespace

TEST_CASE("Conv2D and Conv1D: strided, 'same'-padded (odd pixel bottom/right) and dilated, against float64", "[engine][references]") {
    const std::vector<ConvCase> cases = {
        // H: k 3, s 2 on 6 -> 3 outputs, padding 1: none on top, 1 at the bottom.
        // W: k 4, s 3 on 7 -> 3 outputs, padding 3: 1 on the left, 2 on the right.
        {"6, 7, 2", "Conv2D(3, (3, 4), strides = (2, 3), padding = same)", 2, 3, {6, 3, 2, 1, true}, {7, 4, 3, 1, true}},
        // Dilated 'same': spans 3 and 4, padding 2 (1 + 1) and 3 (1 + 2).
        {"5, 6, 3", "Conv2D(2, (2, 2), dilation_rate = (2, 3), padding = same)", 3, 2, {5, 2, 1, 2, true}, {6, 2, 1, 3, true}},
        {"9, 8, 2", "Conv2D(4, 3, dilation_rate = 2)", 2, 4, {9, 3, 1, 2, false}, {8, 3, 1, 2, false}},
        {"7, 7, 1", "Conv2D(2, 3, strides = 2)", 1, 2, {7, 3, 2, 1, false}, {7, 3, 2, 1, false}},
        // 1-D: k 3, s 2 on 8 -> 4 outputs, padding 1 at the end.
        {"8, 2", "Conv1D(3, 3, strides = 2, padding = same)", 2, 3, {1, 1, 1, 1, false}, {8, 3, 2, 1, true}},
        {"10, 2", "Conv1D(2, 3, dilation_rate = 3)", 2, 2, {1, 1, 1, 1, false}, {10, 3, 1, 3, false}},
        {"7, 3", "Conv1D(2, 2, dilation_rate = 2, padding = same, use_bias = false)", 3, 2, {1, 1, 1, 1, false}, {7, 2, 1, 2, true}},
    };
    for (const ConvCase& c : cases) {
        DYNAMIC_SECTION(c.layer) {
            Run r = run_layer(c.input, c.layer, 2, 7);
            auto params = r.b.net->params();
            const float* bias = params.size() > 1 ? params[1]->value.data() : nullptr;
            std::vector<double> mag;
            auto want = conv_reference(r.x.data(), params[0]->value.data(), bias, 2, c.ci, c.co, c.h, c.w, mag);
            check_sums(r.y, want, mag);
        }
    }
}

TEST_CASE("max and average pooling, 'same' padding included, against float64", "[engine][references]") {
    struct PoolCase {
        std::string input, layer;
        bool max;
        int64_t c;
        Axis h, w;
    };
    const std::vector<PoolCase> cases = {
        // H: 3 at stride 2 on 6 -> 3, padding 1 at the bottom; W: on 7 -> 4, padding 1 + 1.
        {"6, 7, 2", "MaxPooling2D(3, strides = 2, padding = same)", true, 2, {6, 3, 2, 1, true}, {7, 3, 2, 1, true}},
        {"6, 7, 2", "AveragePooling2D(3, strides = 2, padding = same)", false, 2, {6, 3, 2, 1, true}, {7, 3, 2, 1, true}},
        {"4, 7, 1", "MaxPooling2D((2, 3), strides = (1, 2))", true, 1, {4, 2, 1, 1, false}, {7, 3, 2, 1, false}},
        {"4, 7, 1", "AveragePooling2D((2, 3), strides = (1, 2))", false, 1, {4, 2, 1, 1, false}, {7, 3, 2, 1, false}},
        {"5, 3", "MaxPooling1D(2, padding = same)", true, 3, {1, 1, 1, 1, false}, {5, 2, 2, 1, true}},
        {"6, 2", "AveragePooling1D(3, strides = 2, padding = same)", false, 2, {1, 1, 1, 1, false}, {6, 3, 2, 1, true}},
        {"10, 2", "AveragePooling1D(3, strides = 2)", false, 2, {1, 1, 1, 1, false}, {10, 3, 2, 1, false}},
    };
    for (const PoolCase& c : cases) {
        DYNAMIC_SECTION(c.layer) {
            Run r = run_layer(c.input, c.layer, 2, 9);
            std::vector<double> want;
            for (int64_t s = 0; s < 2; ++s)
                for (int64_t oy = 0; oy < c.h.out(); ++oy)
                    for (int64_t ox = 0; ox < c.w.out(); ++ox)
                        for (int64_t ch = 0; ch < c.c; ++ch) {
                            double acc = c.max ? -INFINITY : 0;
                            int cells = 0;  // inside the input: padding is never a candidate nor counted
                            for (int64_t ky = 0; ky < c.h.k; ++ky)
                                for (int64_t kx = 0; kx < c.w.k; ++kx) {
                                    int64_t iy = oy * c.h.stride + ky - c.h.pad_before(), ix = ox * c.w.stride + kx - c.w.pad_before();
                                    if (iy < 0 || iy >= c.h.in || ix < 0 || ix >= c.w.in) continue;
                                    double v = r.x[((s * c.h.in + iy) * c.w.in + ix) * c.c + ch];
                                    acc = c.max ? std::max(acc, v) : acc + v;
                                    ++cells;
                                }
                            want.push_back(c.max ? acc : acc / cells);
                        }
            REQUIRE(static_cast<size_t>(r.y.size()) == want.size());
            for (size_t i = 0; i < want.size(); ++i) {
                INFO("element " << i << ": engine " << r.y[static_cast<int64_t>(i)] << ", reference " << want[i]);
                CHECK(std::fabs(r.y[static_cast<int64_t>(i)] - want[i]) <= 1e-6 * std::fabs(want[i]) + 1e-7);
            }
        }
    }
}

TEST_CASE("global pooling against float64", "[engine][references]") {
    struct GlobalCase {
        std::string input, layer;
        bool max;
        int64_t positions, c;
    };
    const std::vector<GlobalCase> cases = {
        {"3, 4, 5", "GlobalAveragePooling2D()", false, 12, 5},
        {"3, 4, 5", "GlobalMaxPooling2D()", true, 12, 5},
        {"3, 4, 5", "GlobalAveragePooling2D(keepdims = true)", false, 12, 5},
        {"6, 4", "GlobalAveragePooling1D()", false, 6, 4},
        {"6, 4", "GlobalMaxPooling1D(keepdims = true)", true, 6, 4},
    };
    for (const GlobalCase& c : cases) {
        DYNAMIC_SECTION(c.layer << " on (" << c.input << ")") {
            Run r = run_layer(c.input, c.layer, 2, 13);
            REQUIRE(r.y.size() == 2 * c.c);
            for (int64_t s = 0; s < 2; ++s)
                for (int64_t ch = 0; ch < c.c; ++ch) {
                    double acc = c.max ? -INFINITY : 0;
                    for (int64_t p = 0; p < c.positions; ++p) {
                        double v = r.x[(s * c.positions + p) * c.c + ch];
                        acc = c.max ? std::max(acc, v) : acc + v;
                    }
                    if (!c.max) acc /= double(c.positions);
                    CHECK(std::fabs(r.y[s * c.c + ch] - acc) <= 1e-6 * std::fabs(acc) + 1e-7);
                }
        }
    }
}

TEST_CASE("Dense (rank 2 and per position), Embedding, Flatten and Rescaling against float64", "[engine][references]") {
    SECTION("Dense: x W + b with W as (in, units), per position for a rank-3 input") {
        for (auto [input, in, positions] : {std::tuple<std::string, int64_t, int64_t>{"6", 6, 1}, {"2, 5", 5, 2}}) {
            Run r = run_layer(input, "Dense(4)", 3, 21);
            const rt::Tensor &w = r.b.net->params()[0]->value, &b = r.b.net->params()[1]->value;
            std::vector<double> want, mag;
            for (int64_t row = 0; row < 3 * positions; ++row)
                for (int64_t u = 0; u < 4; ++u) {
                    double acc = b[u], m = std::fabs(acc);
                    for (int64_t k = 0; k < in; ++k) acc += double(r.x[row * in + k]) * w[k * 4 + u], m += std::fabs(double(r.x[row * in + k]) * w[k * 4 + u]);
                    want.push_back(acc), mag.push_back(m);
                }
            check_sums(r.y, want, mag);
        }
    }
    SECTION("Embedding: each id's row of the (input_dim, output_dim) table") {
        Built b = build("model t { input(5) Embedding(7, 3) }");
        rt::Tensor& table = b.net->params()[0]->value;
        for (int64_t i = 0; i < table.size(); ++i) table[i] = static_cast<float>(i) * 0.25f - 2;
        rt::Tensor x({2, 5});
        const float ids[10] = {0, 6, 3, 3, 1, 5, 2, 4, 0, 6};
        std::copy(ids, ids + 10, x.data());
        b.net->prepare(2, false);
        rt::View y = b.net->forward(x.view(), {});
        REQUIRE(y.shape == rt::Dims{2, 5, 3});
        for (int64_t t = 0; t < 10; ++t)
            for (int64_t d = 0; d < 3; ++d) CHECK(y[t * 3 + d] == double(ids[t]) * 3 * 0.25 + double(d) * 0.25 - 2);
    }
    SECTION("Flatten keeps the (height, width, channels) order") {
        Run r = run_layer("2, 3, 4", "Flatten()", 2, 5);
        REQUIRE(r.y.shape == rt::Dims{2, 24});
        for (int64_t i = 0; i < 48; ++i) CHECK(r.y[i] == r.x[i]);
    }
    SECTION("Rescaling: x * scale + offset") {
        for (auto [layer, scale, offset] : {std::tuple<std::string, double, double>{"Rescaling(1/255)", 1 / 255.0, 0},
                                           {"Rescaling(scale = 0.5, offset = -1.5)", 0.5, -1.5}}) {
            Run r = run_layer("4, 3", layer, 2, 8, false, 0, 255);
            for (int64_t i = 0; i < r.y.size(); ++i) {
                double want = double(r.x[i]) * scale + offset;
                CHECK(std::fabs(r.y[i] - want) <= 2e-7 * (std::fabs(double(r.x[i]) * scale) + std::fabs(offset)));
            }
        }
    }
}

TEST_CASE("Dropout is inverted dropout: kept values x / (1 - rate), a rate fraction zeroed, identity in inference",
          "[engine][references]") {
    for (double rate : {0.3, 0.5}) {
        DYNAMIC_SECTION("rate " << rate) {
            const int64_t n = 2, size = 4000;
            Built b = build(fmt::format("model t {{ input({}) Dropout({}) }}", size, rate));
            rt::Op& op = *b.net->stages().at(0).op;
            rt::Rng rng(4);
            rt::Tensor x({n, size}), y({n, size}), y2({n, size}), dy({n, size}), dx({n, size});
            fill_uniform(x.data(), x.size(), rng, 0.5, 1.5);
            op.forward(x.view(), y.view(), rt::StepInfo{false, 1, 0});
            for (int64_t i = 0; i < x.size(); ++i) REQUIRE(y[i] == x[i]);

            const rt::StepInfo s{true, 1, 5};
            op.forward(x.view(), y.view(), s);
            int64_t kept = 0;
            double sum_x = 0, sum_y = 0;
            for (int64_t i = 0; i < x.size(); ++i) {
                sum_x += x[i], sum_y += y[i];
                if (y[i] == 0) continue;
                ++kept;
                INFO("element " << i << ": " << x[i] << " -> " << y[i]);
                REQUIRE(std::fabs(y[i] - x[i] / (1 - rate)) <= 1e-6 * y[i]);
            }
            // The kept fraction is 1 - rate within 5 binomial standard deviations, so the mean
            // is preserved.
            const double total = double(x.size()), frac = double(kept) / total, sd = std::sqrt(rate * (1 - rate) / total);
            CHECK(std::fabs(frac - (1 - rate)) <= 5 * sd);
            CHECK(std::fabs(sum_y / sum_x - 1) <= 0.02);
            // Backward zeroes the same positions and scales the rest alike.
            op.prepare_backward(true);
            dy.fill(1);
            rt::View dxv = dx.view();
            op.backward(x.view(), y.view(), dy.view(), &dxv, false, s);
            for (int64_t i = 0; i < x.size(); ++i)
                REQUIRE(std::fabs(dx[i] - (y[i] == 0 ? 0 : 1 / (1 - rate))) <= 1e-6);
            // Another step draws another mask.
            op.forward(x.view(), y2.view(), rt::StepInfo{true, 1, 6});
            int64_t differ = 0;
            for (int64_t i = 0; i < x.size(); ++i) differ += (y[i] == 0) != (y2[i] == 0);
            CHECK(double(differ) / total == Approx(2 * rate * (1 - rate)).margin(0.03));
        }
    }
}
