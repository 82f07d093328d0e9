// Conformance over the activation list (builtins/Activations.cpp): every entry the checker accepts
// runs in the engine, forward and backward, through each code path that applies an activation: the
// Activation layer, and the activation fused into Dense and into Conv2D. The references are Keras
// 3's formulas (keras/src/activations/activations.py and its TensorFlow backend) written out here
// in float64; the derivatives are checked against both a float64 formula and finite differences of
// the engine's own forward pass. An entry added to the list without a kernel, or without a
// reference here, fails.
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <map>

#include "EngineHelpers.h"
#include "builtins/Builtins.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

using Row = std::vector<double>;

// An activation's float64 reference: y of a row, and dL/dx of a row given dL/dy = r.
struct Reference {
    std::function<Row(const Row&)> forward;
    std::function<Row(const Row&, const Row&)> backward;
};

// An elementwise activation from f and f'.
Reference elementwise(std::function<double(double)> f, std::function<double(double)> df) {
    return {[f](const Row& x) {
                Row y;
                for (double v : x) y.push_back(f(v));
                return y;
            },
            [df](const Row& x, const Row& r) {
                Row g;
                for (size_t i = 0; i < x.size(); ++i) g.push_back(df(x[i]) * r[i]);
                return g;
            }};
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
const double kPi = 3.14159265358979323846;
// tf.nn.selu's constants.
const double kSeluScale = 1.0507009873554804934193349852946, kSeluAlpha = 1.6732632423543772848170429916717;

const std::map<std::string, Reference>& references() {
    static const std::map<std::string, Reference> refs = {
        {"linear", elementwise([](double x) { return x; }, [](double) { return 1.0; })},
        {"relu", elementwise([](double x) { return std::max(x, 0.0); }, [](double x) { return x > 0 ? 1.0 : 0.0; })},
        {"sigmoid", elementwise(sigmoid, [](double x) { return sigmoid(x) * (1 - sigmoid(x)); })},
        {"tanh", elementwise([](double x) { return std::tanh(x); }, [](double x) { return 1 - std::tanh(x) * std::tanh(x); })},
        {"elu", elementwise([](double x) { return x > 0 ? x : std::expm1(x); }, [](double x) { return x > 0 ? 1 : std::exp(x); })},
        {"selu", elementwise([](double x) { return kSeluScale * (x > 0 ? x : kSeluAlpha * std::expm1(x)); },
                             [](double x) { return kSeluScale * (x > 0 ? 1 : kSeluAlpha * std::exp(x)); })},
        {"softplus", elementwise([](double x) { return std::log1p(std::exp(x)); }, sigmoid)},
        {"softsign", elementwise([](double x) { return x / (1 + std::fabs(x)); },
                                 [](double x) { return 1 / ((1 + std::fabs(x)) * (1 + std::fabs(x))); })},
        {"swish", elementwise([](double x) { return x * sigmoid(x); },
                              [](double x) { return sigmoid(x) + x * sigmoid(x) * (1 - sigmoid(x)); })},
        // Keras' 'gelu' is gelu(x, approximate=False) = x Phi(x).
        {"gelu", elementwise([](double x) { return x * normal_cdf(x); },
                             [](double x) { return normal_cdf(x) + x * std::exp(-x * x / 2) / std::sqrt(2 * kPi); })},
        // Keras' gelu(x, approximate=True), TensorFlow's formula as written:
        // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
        {"gelu_approximate", elementwise([](double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / kPi) * (x + 0.044715 * x * x * x))); },
                                         [](double x) {
                                             const double c = std::sqrt(2 / kPi), t = std::tanh(c * (x + 0.044715 * x * x * x));
                                             return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x);
                                         })},
        {"leaky_relu", elementwise([](double x) { return x > 0 ? x : 0.2 * x; }, [](double x) { return x > 0 ? 1 : 0.2; })},
        {"relu6", elementwise([](double x) { return std::min(std::max(x, 0.0), 6.0); },
                              [](double x) { return x > 0 && x < 6 ? 1.0 : 0.0; })},
        // Keras 3: relu6(x + 3) / 6.
        {"hard_sigmoid", elementwise([](double x) { return std::min(std::max(x + 3, 0.0), 6.0) / 6; },
                                     [](double x) { return x > -3 && x < 3 ? 1 / 6.0 : 0.0; })},
        {"exponential", elementwise([](double x) { return std::exp(x); }, [](double x) { return std::exp(x); })},
        // Keras 3: log(sigmoid(x)) = -softplus(-x).
        {"log_sigmoid", elementwise([](double x) { return -std::log1p(std::exp(-x)); }, [](double x) { return sigmoid(-x); })},
        // Keras 3: hard_silu(x) = x hard_sigmoid(x).
        {"hard_swish", elementwise([](double x) { return x * std::min(std::max(x + 3, 0.0), 6.0) / 6; },
                                   [](double x) { return x <= -3 ? 0.0 : x >= 3 ? 1.0 : (2 * x + 3) / 6; })},
        // Keras 3: x tanh(softplus(x)).
        {"mish", elementwise([](double x) { return x * std::tanh(std::log1p(std::exp(x))); },
                             [](double x) {
                                 const double t = std::tanh(std::log1p(std::exp(x)));
                                 return t + x * (1 - t * t) * sigmoid(x);
                             })},
        {"softmax",
         {[](const Row& x) {
              double m = *std::max_element(x.begin(), x.end()), s = 0;
              Row y;
              for (double v : x) s += std::exp(v - m);
              for (double v : x) y.push_back(std::exp(v - m) / s);
              return y;
          },
          [](const Row& x, const Row& r) {
              double m = *std::max_element(x.begin(), x.end()), s = 0, dot = 0;
              Row y, g;
              for (double v : x) s += std::exp(v - m);
              for (double v : x) y.push_back(std::exp(v - m) / s);
              for (size_t i = 0; i < x.size(); ++i) dot += y[i] * r[i];
              for (size_t i = 0; i < x.size(); ++i) g.push_back(y[i] * (r[i] - dot));
              return g;
          }}},
    };
    return refs;
}

// 16 inputs (a full vector of channels) at least 3e-3 from every kink (0, +-3, 6), both sides of
// each, and small ones where exp(x) - 1 and log(1 + x) cancel.
const Row kInputs = {-7.5, -4.5, -2.7, -1.9, -1.3, -0.6, -0.15, -0.004, 0.003, 0.2, 0.7, 1.4, 2.6, 4.1, 6.5, 9.0};
const Row kWeights = {0.9, -0.4, 0.7, 0.3, -0.8, 0.5, 1.0, -0.6, 0.45, -0.95, 0.2, 0.85, -0.3, 0.65, -0.55, 0.35};
constexpr int kC = 16;

// A model whose activation input is the model input: an identity Dense (or 1x1 Conv2D) with zero
// bias, so the bias gradient is dL/dz. `act` is applied by the layer itself or by an Activation
// layer after it.
struct Path {
    std::string name, code;
};

std::vector<Path> paths(const std::string& act) {
    return {{"Dense(activation)", fmt::format("model t {{ input({}) Dense({}, activation = {}) }}", kC, kC, act)},
            {"Activation layer", fmt::format("model t {{ input({}) Dense({}) Activation({}) }}", kC, kC, act)},
            {"Conv2D(activation)", fmt::format("model t {{ input(1, 1, {}) Conv2D({}, 1, activation = {}) }}", kC, kC, act)}};
}

// Step for a central difference at x: 1e-2, or less near a kink so the two points stay on one side.
double fd_step(double x) {
    double d = 1e-2;
    for (double kink : {0.0, -3.0, 3.0, 6.0}) d = std::min(d, std::fabs(x - kink) / 2);
    return d;
}

bool close(double got, double want, double rel, double abs) { return std::fabs(got - want) <= rel * std::fabs(want) + abs; }

}  // namespace

TEST_CASE("the test's own references: each derivative formula matches its forward formula's finite differences",
          "[activations]") {
    for (const auto& [name, ref] : references()) {
        Row r(kC, 0);
        for (int i = 0; i < kC; ++i) {
            r.assign(kC, 0);
            r[static_cast<size_t>(i)] = 1;
            double h = fd_step(kInputs[static_cast<size_t>(i)]) / 100;
            Row xp = kInputs, xm = kInputs;
            xp[static_cast<size_t>(i)] += h, xm[static_cast<size_t>(i)] -= h;
            double numeric = (ref.forward(xp)[static_cast<size_t>(i)] - ref.forward(xm)[static_cast<size_t>(i)]) / (2 * h);
            double analytic = ref.backward(kInputs, r)[static_cast<size_t>(i)];
            INFO(name << " at " << kInputs[static_cast<size_t>(i)] << ": formula " << analytic << ", differences " << numeric);
            CHECK(close(analytic, numeric, 1e-6, 1e-9));
        }
    }
}

TEST_CASE("every activation the checker accepts runs in the engine with Keras' numbers, forward and backward",
          "[activations][engine]") {
    for (const Builtin& b : activations()) {
        DYNAMIC_SECTION(b.name) {
            auto ref_it = references().find(b.name);
            if (ref_it == references().end()) FAIL("activation '" << b.name << "' has no float64 reference in tests/unit/test_activations.cpp");
            const Reference& ref = ref_it->second;
            const Row want_y = ref.forward(kInputs), want_dz = ref.backward(kInputs, kWeights);
            std::vector<std::string> spellings = {b.name};
            spellings.insert(spellings.end(), b.aliases.begin(), b.aliases.end());
            for (const std::string& act : spellings)
                for (const Path& path : paths(act)) {
                    INFO(path.name << " with activation '" << act << "'");
                    Built m = build(path.code);
                    auto params = m.net->params();
                    REQUIRE(params.size() == 2);
                    rt::Param &w = *params[0], &bias = *params[1];
                    w.value.fill(0);  // identity: (in, units) for Dense, (1, 1, ci, co) for Conv2D
                    for (int i = 0; i < kC; ++i) w.value[i * kC + i] = 1;
                    bias.value.fill(0);
                    m.net->prepare(1, true);
                    rt::Tensor x(m.net->input_shape().size() == 1 ? rt::Dims{1, kC} : rt::Dims{1, 1, 1, kC});
                    for (int i = 0; i < kC; ++i) x[i] = static_cast<float>(kInputs[static_cast<size_t>(i)]);
                    rt::StepInfo s{true, 1, 0};
                    rt::View y = m.net->forward(x.view(), s);
                    for (int i = 0; i < kC; ++i) {
                        INFO("y at x = " << kInputs[static_cast<size_t>(i)] << ": engine " << y[i] << ", Keras " << want_y[static_cast<size_t>(i)]);
                        CHECK(close(y[i], want_y[static_cast<size_t>(i)], 2e-6, 1e-7));
                    }
                    // L = sum(y * kWeights), accumulated in float64; dL/dz is the bias gradient.
                    rt::Tensor dy(y.shape);
                    for (int i = 0; i < kC; ++i) dy[i] = static_cast<float>(kWeights[static_cast<size_t>(i)]);
                    m.net->backward(dy.view(), false, s);
                    const rt::Tensor dz = bias.grad;
                    auto loss = [&]() {
                        rt::View out = m.net->forward(x.view(), s);
                        double l = 0;
                        for (int i = 0; i < kC; ++i) l += double(out[i]) * kWeights[static_cast<size_t>(i)];
                        return l;
                    };
                    for (int i = 0; i < kC; ++i) {
                        const double xi = kInputs[static_cast<size_t>(i)], h = fd_step(xi);
                        x[i] = static_cast<float>(xi + h);
                        const double lp = loss();
                        x[i] = static_cast<float>(xi - h);
                        const double lm = loss();
                        x[i] = static_cast<float>(xi);
                        // The step as float32 represents it, so the difference quotient is exact in h.
                        const double step = double(static_cast<float>(xi + h)) - double(static_cast<float>(xi - h));
                        const double numeric = (lp - lm) / step;
                        INFO("dL/dz at x = " << xi << ": engine " << dz[i] << ", Keras " << want_dz[static_cast<size_t>(i)]
                                             << ", finite differences " << numeric);
                        CHECK(close(dz[i], want_dz[static_cast<size_t>(i)], 1e-5, 1e-7));
                        CHECK(close(dz[i], numeric, 1e-3, 2e-5));
                    }
                }
        }
    }
}
