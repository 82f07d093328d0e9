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
#include <fstream>
#include <map>
#include <sstream>

#include "EngineHelpers.h"
#include "TempDir.h"
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
double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }
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
        // max(x, 0) + log(1 + exp(-|x|)): log(1 + exp(x)) without overflow, as TensorFlow's softplus.
        {"softplus", elementwise(softplus, sigmoid)},
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
        {"log_sigmoid", elementwise([](double x) { return -softplus(-x); }, [](double x) { return sigmoid(-x); })},
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

// One of those models, its identity weights set, run on one row of kC inputs.
class Identity {
  public:
    explicit Identity(const std::string& code) : m_(build(code)) {
        auto params = m_.net->params();
        REQUIRE(params.size() == 2);
        rt::Param &w = *params[0], &bias = *params[1];
        w.value.fill(0);  // identity: (in, units) for Dense, (1, 1, ci, co) for Conv2D
        for (int i = 0; i < kC; ++i) w.value[i * kC + i] = 1;
        bias.value.fill(0);
        bias_ = &bias;
        m_.net->prepare(1, true);
        x_ = rt::Tensor(m_.net->input_shape().size() == 1 ? rt::Dims{1, kC} : rt::Dims{1, 1, 1, kC});
    }
    void set(int i, double v) { x_[i] = static_cast<float>(v); }
    void set(const Row& x) {
        for (int i = 0; i < kC; ++i) set(i, x[static_cast<size_t>(i)]);
    }
    // y = act(x).
    Row forward() {
        rt::View y = m_.net->forward(x_.view(), step_);
        out_shape_ = y.shape;
        return Row(y.data, y.data + kC);
    }
    // dL/dz of L = sum(y * r), after forward(): the bias gradient.
    Row backward(const Row& r) {
        rt::Tensor dy(out_shape_);
        for (int i = 0; i < kC; ++i) dy[i] = static_cast<float>(r[static_cast<size_t>(i)]);
        m_.net->backward(dy.view(), false, step_);
        return Row(bias_->grad.data(), bias_->grad.data() + kC);
    }

  private:
    Built m_;
    rt::Param* bias_ = nullptr;
    rt::Tensor x_;
    rt::Dims out_shape_;
    rt::StepInfo step_{true, 1, 0};
};

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
                    Identity m(path.code);
                    m.set(kInputs);
                    const Row y = m.forward();
                    for (int i = 0; i < kC; ++i) {
                        INFO("y at x = " << kInputs[static_cast<size_t>(i)] << ": engine " << y[static_cast<size_t>(i)] << ", Keras " << want_y[static_cast<size_t>(i)]);
                        CHECK(close(y[static_cast<size_t>(i)], want_y[static_cast<size_t>(i)], 2e-6, 1e-7));
                    }
                    // L = sum(y * kWeights), accumulated in float64; dL/dz is the bias gradient.
                    const Row dz = m.backward(kWeights);
                    auto loss = [&]() {
                        const Row out = m.forward();
                        double l = 0;
                        for (int i = 0; i < kC; ++i) l += out[static_cast<size_t>(i)] * kWeights[static_cast<size_t>(i)];
                        return l;
                    };
                    for (int i = 0; i < kC; ++i) {
                        const double xi = kInputs[static_cast<size_t>(i)], h = fd_step(xi);
                        m.set(i, xi + h);
                        const double lp = loss();
                        m.set(i, xi - h);
                        const double lm = loss();
                        m.set(i, xi);
                        // The step as float32 represents it, so the difference quotient is exact in h.
                        const double step = double(static_cast<float>(xi + h)) - double(static_cast<float>(xi - h));
                        const double numeric = (lp - lm) / step;
                        const double got = dz[static_cast<size_t>(i)];
                        INFO("dL/dz at x = " << xi << ": engine " << got << ", Keras " << want_dz[static_cast<size_t>(i)]
                                             << ", finite differences " << numeric);
                        CHECK(close(got, want_dz[static_cast<size_t>(i)], 1e-5, 1e-7));
                        CHECK(close(got, numeric, 1e-3, 2e-5));
                    }
                }
        }
    }
}

// Far beyond float32's exp range (and past 1.5e9, where Halide's exp wraps to 0 instead of giving
// inf), each activation gives its limit: Keras' value rounded to float32 (0, +-1, x, inf), never a
// NaN or the wrong side's limit. The references are evaluated at the inputs as float32 holds them.
TEST_CASE("every activation keeps its limits at huge inputs, forward and backward", "[activations][engine]") {
    const Row huge = {-1e30, -1e10, -3e9, -1e6, -1e4, -300, -90, -30, 30, 90, 300, 1e4, 1e6, 3e9, 1e10, 1e30};
    Row x, r(kC, 1.0);
    for (double v : huge) x.push_back(static_cast<float>(v));
    for (const Builtin& b : activations()) {
        DYNAMIC_SECTION(b.name) {
            const Reference& ref = references().at(b.name);
            const Row want_y = ref.forward(x), want_dz = ref.backward(x, r);
            for (const Path& path : paths(b.name)) {
                INFO(path.name);
                Identity m(path.code);
                m.set(x);
                const Row y = m.forward(), dz = m.backward(r);
                for (size_t i = 0; i < x.size(); ++i) {
                    // Keras rounded to float32 (exp(300) is inf); a float32 derivative from y loses what
                    // is below 1e-7 of 1 (sigmoid(30)), hence the absolute tolerance.
                    const double wy = static_cast<float>(want_y[i]), wdz = static_cast<float>(want_dz[i]);
                    INFO("x = " << x[i] << ": y engine " << y[i] << ", Keras " << wy << "; dL/dz engine " << dz[i] << ", Keras " << wdz);
                    CHECK((std::isinf(wy) ? y[i] == wy : close(y[i], wy, 2e-6, 1e-7)));
                    CHECK((std::isinf(wdz) ? dz[i] == wdz : close(dz[i], wdz, 1e-5, 1e-7)));
                }
            }
        }
    }
}

// The float64 references above, against PyTorch's own implementations (float64, gradients by
// autograd): an independent check that each reference is Keras' function. PyTorch's hardsigmoid
// and hardswish are Keras 3's relu6(x + 3) / 6 forms; its softplus's threshold (20) is beyond the
// inputs.
TEST_CASE("the test's own references agree with PyTorch's activations in float64", "[activations][torch]") {
    if (run_shell("/usr/bin/python3 -c 'import torch' 2>&1").status != 0) skip("PyTorch is not installed (python3-torch)");
    const std::map<std::string, std::string> torch = {
        {"linear", "x"}, {"relu", "F.relu(x)"}, {"sigmoid", "torch.sigmoid(x)"}, {"softmax", "torch.softmax(x, -1)"},
        {"tanh", "torch.tanh(x)"}, {"elu", "F.elu(x)"}, {"selu", "F.selu(x)"}, {"softplus", "F.softplus(x)"},
        {"softsign", "F.softsign(x)"}, {"swish", "F.silu(x)"}, {"gelu", "F.gelu(x)"},
        {"gelu_approximate", "F.gelu(x, approximate='tanh')"}, {"leaky_relu", "F.leaky_relu(x, 0.2)"},
        {"relu6", "F.relu6(x)"}, {"hard_sigmoid", "F.hardsigmoid(x)"}, {"exponential", "torch.exp(x)"},
        {"log_sigmoid", "F.logsigmoid(x)"}, {"hard_swish", "F.hardswish(x)"}, {"mish", "F.mish(x)"}};
    auto py_list = [](const Row& v) {
        std::string out;
        for (double d : v) out += fmt::format("{}, ", d);
        return "[" + out + "]";
    };
    TempDir dir;
    const std::string script = dir.path() + "/acts.py";
    std::ofstream py(script);
    py << "import torch\nimport torch.nn.functional as F\n";
    for (const Builtin& b : activations()) {
        auto it = torch.find(b.name);
        if (it == torch.end()) FAIL("activation '" << b.name << "' has no PyTorch counterpart in this test");
        py << "x = torch.tensor(" << py_list(kInputs) << ", dtype=torch.float64, requires_grad=True)\n"
           << "y = " << it->second << "\n(y * torch.tensor(" << py_list(kWeights) << ", dtype=torch.float64)).sum().backward()\n"
           << "print('" << b.name << "', *[repr(v) for v in y.tolist() + x.grad.tolist()])\n";
    }
    py.close();
    CommandResult r = run_shell("/usr/bin/python3 '" + script + "' 2>&1");
    INFO(r.output);
    REQUIRE(r.status == 0);
    std::istringstream lines(r.output);
    size_t seen = 0;
    for (std::string name; lines >> name; ++seen) {
        Row y(kC), dz(kC);
        for (double& v : y) lines >> v;
        for (double& v : dz) lines >> v;
        const Reference& ref = references().at(name);
        const Row want_y = ref.forward(kInputs), want_dz = ref.backward(kInputs, kWeights);
        for (size_t i = 0; i < kInputs.size(); ++i) {
            INFO(name << " at " << kInputs[i] << ": y PyTorch " << y[i] << ", here " << want_y[i] << "; dL/dx PyTorch " << dz[i] << ", here " << want_dz[i]);
            // 1e-7: PyTorch's hardsigmoid gradient multiplies by 1/6 as a float32 literal.
            CHECK(close(want_y[i], y[i], 1e-7, 1e-12));
            CHECK(close(want_dz[i], dz[i], 1e-7, 1e-12));
        }
    }
    CHECK(seen == activations().size());
}
