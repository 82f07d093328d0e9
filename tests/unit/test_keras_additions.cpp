// The entries added to prove that a builtin is one record plus one list line (docs/EXTENDING.md):
// the optimizer adagrad and the loss huber against Keras 3's formulas re-implemented here in
// float64 (keras/src/optimizers/adagrad.py, keras/src/losses/losses.py's huber), to 1e-6 relative.
// The activation log_sigmoid is checked with every other activation (test_activations.cpp).
#include <cmath>

#include "Helpers.h"
#include "sema/Written.h"

using namespace cnnc;

namespace {

using Vec = std::vector<double>;

rt::Tensor tensor(rt::Dims shape, const Vec& v) {
    rt::Tensor t(shape);
    for (size_t i = 0; i < v.size(); ++i) t[static_cast<int64_t>(i)] = static_cast<float>(v[i]);
    return t;
}

bool close(double got, double want) { return std::fabs(got - want) <= 1e-6 * std::fabs(want) + 1e-9; }

}  // namespace

TEST_CASE("adagrad matches Keras 3 over 5 steps, with its defaults and with its arguments", "[optimizers][keras]") {
    struct Variant {
        std::map<std::string, double> args;
        double lr, init, eps;
    };
    for (const Variant& v : {Variant{{}, 0.001, 0.1, 1e-7}, Variant{{{"learning_rate", 0.5}, {"initial_accumulator_value", 0.0}, {"epsilon", 1e-3}}, 0.5, 0.0, 1e-3}}) {
        INFO("learning_rate " << v.lr << ", initial_accumulator_value " << v.init << ", epsilon " << v.eps);
        auto opt = make_optimizer({"Adagrad", v.args, {}});
        CHECK(opt->name() == "adagrad");
        Vec w = {0.5, -1.25, 2.0, 0.03125}, acc(w.size(), v.init);  // exact in float32
        rt::Param p;
        p.value = tensor({4}, w);
        p.grad = rt::Tensor({4});
        for (int t = 0; t < 5; ++t) {
            for (size_t i = 0; i < w.size(); ++i) {
                const double g = static_cast<float>(std::sin(1.3 * double(i + 1) + 0.7 * t) * (i == 3 ? 1e-3 : 1.0));
                p.grad[static_cast<int64_t>(i)] = static_cast<float>(g);
                acc[i] += g * g;                         // accumulator.assign_add(square(g))
                w[i] -= v.lr * g / std::sqrt(acc[i] + v.eps);  // variable.assign_sub(lr g / sqrt(acc + eps))
            }
            opt->step({&p});
            for (size_t i = 0; i < w.size(); ++i) {
                INFO("step " << t + 1 << ", weight " << i << ": cnnc " << p.value[static_cast<int64_t>(i)] << ", Keras " << w[i]);
                CHECK(close(p.value[static_cast<int64_t>(i)], w[i]));
            }
        }
    }
}

TEST_CASE("huber matches Keras 3 inside and beyond delta, value and gradient", "[losses][keras]") {
    // Two samples of three outputs; errors on both sides of delta and of zero.
    const Vec out = {0.2, 2.5, -1.0, 0.9, -0.3, 4.0}, target = {0.0, 1.0, 1.0, 1.0, 0.0, 0.5};
    for (double delta : {1.0, 0.25}) {
        INFO("delta " << delta);
        rt::LossSpec loss = make_loss({"huber", delta == 1.0 ? std::map<std::string, double>{} : std::map<std::string, double>{{"delta", delta}}, {}});
        rt::Tensor o = tensor({2, 3}, out), y = tensor({2, 3}, target), g({2, 3});
        const double got = rt::compute_loss(loss, o.view(), y.view(), g.data(), false);
        // keras.losses.huber: mean over the last axis of where(|d| <= delta, d^2 / 2, delta |d| - delta^2 / 2), then over the batch.
        double want = 0;
        Vec dwant(out.size());
        for (size_t i = 0; i < out.size(); ++i) {
            const double d = double(static_cast<float>(out[i])) - double(static_cast<float>(target[i]));
            want += (std::fabs(d) <= delta ? 0.5 * d * d : delta * std::fabs(d) - 0.5 * delta * delta) / 6;
            dwant[i] = (std::fabs(d) <= delta ? d : delta * (d > 0 ? 1 : -1)) / 6;
        }
        CHECK(close(got, want));
        for (size_t i = 0; i < out.size(); ++i) {
            INFO("gradient " << i << ": cnnc " << g[static_cast<int64_t>(i)] << ", Keras " << dwant[i]);
            CHECK(std::fabs(g[static_cast<int64_t>(i)] - dwant[i]) <= 1e-6 * std::fabs(dwant[i]) + 1e-8);
        }
    }
}
