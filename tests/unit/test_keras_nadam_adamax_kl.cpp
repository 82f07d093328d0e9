// Issue 11's builtins that need no graph, added as one record each (docs/EXTENDING.md): the
// optimizers nadam and adamax and the loss kl_divergence against Keras 3's formulas re-implemented
// here in float64 (keras/src/optimizers/nadam.py and adamax.py, keras/src/losses/losses.py's
// kl_divergence), to 1e-6 relative; and a nadam, adamax or adagrad run that is interrupted and
// resumed ending as the uninterrupted run (their slots, and nadam's momentum schedule, survive the
// state file). The activations hard_swish and mish are checked with every other one (test_activations.cpp).
#include <cmath>
#include <filesystem>
#include <map>

#include "Bars.h"
#include "Faults.h"
#include "Helpers.h"
#include "TempDir.h"
#include "sema/Written.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

using Vec = std::vector<double>;
using Args = std::map<std::string, double>;

rt::Tensor tensor(rt::Dims shape, const Vec& v) {
    rt::Tensor t(shape);
    for (size_t i = 0; i < v.size(); ++i) t[static_cast<int64_t>(i)] = static_cast<float>(v[i]);
    return t;
}

bool close(double got, double want) { return std::fabs(got - want) <= 1e-6 * std::max(std::fabs(want), 0.1); }

// Step t's gradient of weight i, rounded to float32 as the engine's are; weight 3's is tiny, where
// epsilon matters.
double grad_at(int t, size_t i) { return static_cast<float>(std::sin(1.3 * double(i + 1) + 0.7 * t) * (i == 3 ? 1e-3 : 1.0)); }

double arg(const Args& a, const std::string& k, double def) {
    auto it = a.find(k);
    return it == a.end() ? def : it->second;
}

// Runs 6 steps of cnnc's optimizer `name` and of `keras_step` (w, m, second slot, g, lr, t),
// comparing every weight after every step.
template <class Step>
void compare(const std::string& name, const Args& args, Step keras_step) {
    const double lr = arg(args, "learning_rate", 0.001);
    auto opt = make_optimizer({name, args, {}});
    Vec w = {0.5, -1.25, 2.0, 0.03125}, m(w.size(), 0.0), s(w.size(), 0.0);  // exact in float32
    rt::Param p;
    p.value = tensor({4}, w);
    p.grad = rt::Tensor({4});
    for (int t = 1; t <= 6; ++t) {
        for (size_t i = 0; i < w.size(); ++i) {
            const double g = grad_at(t, i);
            p.grad[static_cast<int64_t>(i)] = static_cast<float>(g);
            keras_step(w[i], m[i], s[i], g, lr, t);
        }
        opt->step({&p});
        for (size_t i = 0; i < w.size(); ++i) {
            INFO(name << " step " << t << ", weight " << i << ": cnnc " << p.value[static_cast<int64_t>(i)] << ", Keras " << w[i]);
            CHECK(close(p.value[static_cast<int64_t>(i)], w[i]));
        }
    }
}

}  // namespace

TEST_CASE("nadam matches Keras 3 over 6 steps, momentum schedule included, with its defaults and with its arguments",
          "[optimizers][keras]") {
    for (const Args& args : {Args{}, Args{{"learning_rate", 0.05}, {"beta_1", 0.8}, {"beta_2", 0.9}, {"epsilon", 1e-3}}}) {
        const double b1 = arg(args, "beta_1", 0.9), b2 = arg(args, "beta_2", 0.999), eps = arg(args, "epsilon", 1e-7);
        auto u = [&](int s) { return b1 * (1 - 0.5 * std::pow(0.96, s)); };
        compare("Nadam", args, [&](double& w, double& m, double& v, double g, double lr, int t) {
            double u_product = 1;  // _backend_update_step multiplies u_t in before the step
            for (int s = 1; s <= t; ++s) u_product *= u(s);
            m += (g - m) * (1 - b1);
            v += (g * g - v) * (1 - b2);
            const double m_hat = u(t + 1) * m / (1 - u_product * u(t + 1)) + (1 - u(t)) * g / (1 - u_product);
            const double v_hat = v / (1 - std::pow(b2, t));
            w -= m_hat * lr / (std::sqrt(v_hat) + eps);
        });
    }
    CHECK(make_optimizer({"nadam", {}, {}})->name() == "nadam");
}

TEST_CASE("adamax matches Keras 3 over 6 steps, with its defaults and with its arguments", "[optimizers][keras]") {
    for (const Args& args : {Args{}, Args{{"learning_rate", 0.05}, {"beta_1", 0.8}, {"beta_2", 0.9}, {"epsilon", 1e-3}}}) {
        const double b1 = arg(args, "beta_1", 0.9), b2 = arg(args, "beta_2", 0.999), eps = arg(args, "epsilon", 1e-7);
        compare("Adamax", args, [&](double& w, double& m, double& u, double g, double lr, int t) {
            m += (g - m) * (1 - b1);
            u = std::max(b2 * u, std::fabs(g));
            w -= lr * m / ((1 - std::pow(b1, t)) * (u + eps));
        });
    }
    CHECK(make_optimizer({"adamax", {}, {}})->name() == "adamax");
}

TEST_CASE("kl_divergence matches Keras 3, clipping included, value and gradient", "[losses][keras]") {
    // Two samples of three outputs: a 0 and a 1 among the probabilities, labels with zeros (clipped
    // to 1e-7) and a soft one.
    const Vec out = {0.2, 0.8, 0.0, 0.25, 0.25, 0.5}, target = {0.0, 1.0, 0.0, 0.3, 0.3, 0.4};
    rt::LossSpec loss = make_loss({"kl_divergence", {}, {}});
    rt::Tensor o = tensor({2, 3}, out), y = tensor({2, 3}, target), g({2, 3});
    const double got = rt::compute_loss(loss, o.view(), y.view(), g.data(), false);
    // keras.losses.kl_divergence: y, p clipped to [1e-7, 1]; sum(y log(y / p)) over the last axis;
    // the mean over the batch. The clip passes no gradient where p was outside [1e-7, 1].
    double want = 0;
    Vec dwant(out.size());
    for (size_t i = 0; i < out.size(); ++i) {
        const double p0 = static_cast<float>(out[i]), y0 = static_cast<float>(target[i]);
        const double p = std::min(std::max(p0, 1e-7), 1.0), t = std::min(std::max(y0, 1e-7), 1.0);
        want += t * std::log(t / p) / 2;
        dwant[i] = p0 >= 1e-7 && p0 <= 1 ? -t / p / 2 : 0.0;
    }
    CHECK(std::fabs(got - want) <= 1e-6 * want);
    for (size_t i = 0; i < out.size(); ++i) {
        INFO("gradient " << i << ": cnnc " << g[static_cast<int64_t>(i)] << ", Keras " << dwant[i]);
        CHECK(std::fabs(g[static_cast<int64_t>(i)] - dwant[i]) <= 1e-6 * std::fabs(dwant[i]) + 1e-12);
    }
}

TEST_CASE("kl_divergence needs probabilities: a linear or relu output is refused", "[losses][labels]") {
    for (const char* act : {"linear", "relu"}) {
        auto errs = errors(*compile(std::string("dataset d {\n    train = idx(\"a\", \"b\")\n    labels = one_hot(3)\n}\n"
                                                "model m {\n    input(28, 28, 1)\n    Flatten()\n    Dense(3, activation = ") +
                                    act + ")\n}\ntrain m on d.train {\n    loss = kl_divergence\n}\n"));
        REQUIRE(errs.size() == 1);
        CHECK(errs[0] == std::string("11:12: error: loss does not fit model 'm' (output (None, 3)): kl_divergence compares probability distributions, but the last layer applies ") + act +
                             " (use softmax or sigmoid)");
    }
}

// adagrad's accumulators start at initial_accumulator_value, not 0: a resume that re-created its
// slots instead of restoring them would start them over at 0.1 and differ.
TEST_CASE("nadam, adamax and adagrad runs interrupted and resumed end as the uninterrupted run", "[optimizers][resume]") {
    for (const char* optimizer : {"nadam(learning_rate = 0.01)", "adamax(learning_rate = 0.02)", "adagrad(learning_rate = 0.05)"}) {
        DYNAMIC_SECTION(optimizer) {
            TempDir dir;
            fs::path d(dir.path());
            std::string model = kModel;
            model.replace(model.find("adam(learning_rate = 0.01)"), 26, optimizer);
            write_bars_files(d, 64, 32, model);
            CommandResult whole = run_cnnc("run bars.cnn --seed 5", d.string());
            INFO(whole.output);
            REQUIRE(whole.status == 0);
            const std::string history = slurp(d / "bar_net_history.csv");
            const auto weights = weight_values(d / "bar_net.weights.h5");
            CommandResult stopped = run_cnnc("run bars.cnn --seed 5", d.string(), "CNNC_INTERRUPT_AFTER_EPOCH=1:2");
            INFO(stopped.output);
            REQUIRE(stopped.status == 1);
            CommandResult resumed = run_cnnc("run bars.cnn --seed 5 --resume", d.string());
            INFO(resumed.output);
            REQUIRE(resumed.status == 0);
            CHECK_THAT(resumed.output, Catch::Contains("Resuming after epoch 2"));
            CHECK(slurp(d / "bar_net_history.csv") == history);
            CHECK(weight_values(d / "bar_net.weights.h5") == weights);
        }
    }
}
