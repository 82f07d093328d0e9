// Optimizers over several steps against Keras 3's update rules, re-implemented here in float64
// from keras/src/optimizers/{sgd,rmsprop,adam,adamw}.py and base_optimizer.py (apply: clip the
// gradients, then decoupled weight decay, then update_step). Each variant runs 5 steps on fixed
// gradients and must agree to 1e-6 relative: a 1 % error in any update is ~1e-4 and shows.
#include <cmath>
#include <map>

#include "Helpers.h"
#include "sema/Written.h"
#include "train/Optimizer.h"

using namespace cnnc;

namespace {

using Args = std::map<std::string, double>;
using Vec = std::vector<double>;

constexpr int kSteps = 5;
const Vec kInitA = {0.5, -1.25, 2.0, 0.03125, -0.75};  // exact in float32
const Vec kInitB = {1.5, -0.5, 0.25};

// Step t's gradient of element i: signs, sizes and a near-zero element (where epsilon matters)
// vary from step to step. Rounded to float32, as the engine's gradients are.
double grad_at(int t, size_t i, size_t which) {
    static const double scale[] = {2.0, 0.5, 1e-3, -1.0, 0.25};
    return static_cast<float>(std::sin(1.3 * double(i + 1 + 3 * which) + 0.7 * t) * scale[(i + which) % 5]);
}

double arg(const Args& a, const std::string& k, double def) {
    auto it = a.find(k);
    return it == a.end() ? def : it->second;
}

// Keras 3 in float64: one optimizer, its variables' slots, and apply() for a list of variables.
struct KerasRef {
    std::string name;
    Args a;
    std::vector<Vec> m, v, vhat, avg;  // per variable
    int64_t iterations = 0;

    void apply(std::vector<Vec>& vars, std::vector<Vec> grads) {
        if (m.empty())
            for (const Vec& w : vars) m.emplace_back(w.size(), 0.0), v.emplace_back(w.size(), 0.0), vhat.emplace_back(w.size(), 0.0), avg.emplace_back(w.size(), 0.0);
        // _clip_gradients: clipnorm, elif global_clipnorm, elif clipvalue.
        const double cn = arg(a, "clipnorm", 0), gn = arg(a, "global_clipnorm", 0), cv = arg(a, "clipvalue", 0);
        if (cn > 0) {
            for (Vec& g : grads) {
                double l2 = 0;
                for (double x : g) l2 += x * x;
                const double norm = std::sqrt(l2);
                for (double& x : g) x = x * cn / std::max(norm, cn);
            }
        } else if (gn > 0) {
            double s = 0;
            for (const Vec& g : grads)
                for (double x : g) s += x * x;
            const double use_norm = std::sqrt(s);
            for (Vec& g : grads)
                for (double& x : g) x *= gn * std::min(1.0 / use_norm, 1.0 / gn);
        } else if (cv > 0) {
            for (Vec& g : grads)
                for (double& x : g) x = std::min(std::max(x, -cv), cv);
        }
        const double lr = arg(a, "learning_rate", name == "sgd" ? 0.01 : 0.001);
        // _apply_weight_decay (AdamW's default 0.004; the others' None).
        const double wd = arg(a, "weight_decay", name == "adamw" ? 0.004 : 0);
        for (Vec& w : vars)
            for (double& x : w) x = x - x * wd * lr;
        for (size_t k = 0; k < vars.size(); ++k) update(k, vars[k], grads[k], lr);
        ++iterations;
    }

    void update(size_t k, Vec& w, const Vec& g, double lr) {
        for (size_t i = 0; i < w.size(); ++i) {
            if (name == "sgd") {
                const double mom = arg(a, "momentum", 0);
                if (mom == 0) {
                    w[i] -= g[i] * lr;
                } else {
                    m[k][i] = m[k][i] * mom - g[i] * lr;
                    w[i] += arg(a, "nesterov", 0) != 0 ? m[k][i] * mom - g[i] * lr : m[k][i];
                }
            } else if (name == "rmsprop") {
                const double rho = arg(a, "rho", 0.9), eps = arg(a, "epsilon", 1e-7), mom = arg(a, "momentum", 0);
                v[k][i] = rho * v[k][i] + (1 - rho) * g[i] * g[i];
                double denominator = v[k][i] + eps;
                if (arg(a, "centered", 0) != 0) {
                    avg[k][i] = rho * avg[k][i] + (1 - rho) * g[i];
                    denominator = v[k][i] - avg[k][i] * avg[k][i] + eps;
                }
                const double increment = lr * g[i] / std::sqrt(denominator);
                if (mom > 0) {
                    m[k][i] = mom * m[k][i] + increment;
                    w[i] -= m[k][i];
                } else {
                    w[i] -= increment;
                }
            } else {  // adam, adamw
                const double b1 = arg(a, "beta_1", 0.9), b2 = arg(a, "beta_2", 0.999), eps = arg(a, "epsilon", 1e-7);
                const double step = double(iterations + 1);
                const double alpha = lr * std::sqrt(1 - std::pow(b2, step)) / (1 - std::pow(b1, step));
                m[k][i] += (g[i] - m[k][i]) * (1 - b1);
                v[k][i] += (g[i] * g[i] - v[k][i]) * (1 - b2);
                double vv = v[k][i];
                if (arg(a, "amsgrad", 0) != 0) vv = vhat[k][i] = std::max(vhat[k][i], v[k][i]);
                w[i] -= m[k][i] * alpha / (std::sqrt(vv) + eps);
            }
        }
    }
};

rt::Param make_param(const Vec& init, double l1 = 0, double l2 = 0) {
    rt::Param p;
    p.value = rt::Tensor({static_cast<int64_t>(init.size())});
    p.grad = rt::Tensor({static_cast<int64_t>(init.size())});
    for (size_t i = 0; i < init.size(); ++i) p.value[static_cast<int64_t>(i)] = static_cast<float>(init[i]);
    p.l1 = l1;
    p.l2 = l2;
    return p;
}

// Runs kSteps of cnnc's optimizer and of the reference on variables A and B (B only when `two`),
// with optional L1/L2 penalties on A (their gradient joins the loss's, as in Keras), and compares
// every weight after every step.
void compare(const std::string& name, const Args& args, bool two = false, double l1 = 0, double l2 = 0) {
    INFO(name << " " << [&] {
        std::string s;
        for (const auto& [k, x] : args) s += k + "=" + std::to_string(x) + " ";
        return s;
    }());
    rt::Param pa = make_param(kInitA, l1, l2), pb = make_param(kInitB);
    std::vector<rt::Param*> params = {&pa};
    std::vector<Vec> ref = {kInitA};
    if (two) params.push_back(&pb), ref.push_back(kInitB);
    auto opt_owner = make_optimizer({name, args});
    rt::Optimizer& opt = *opt_owner;
    KerasRef keras{name, args, {}, {}, {}, {}, 0};
    for (int t = 0; t < kSteps; ++t) {
        std::vector<Vec> grads;
        for (size_t k = 0; k < params.size(); ++k) {
            Vec g(ref[k].size());
            for (size_t i = 0; i < g.size(); ++i) {
                g[i] = grad_at(t, i, k);
                params[k]->grad[static_cast<int64_t>(i)] = static_cast<float>(g[i]);
                if (k == 0) {  // the penalty's gradient at the engine's own (float32) weights
                    const double w = params[k]->value[static_cast<int64_t>(i)];
                    g[i] += l1 * ((w > 0) - (w < 0)) + 2 * l2 * w;
                }
            }
            grads.push_back(g);
        }
        opt.step(params);
        keras.apply(ref, grads);
        for (size_t k = 0; k < params.size(); ++k)
            for (size_t i = 0; i < ref[k].size(); ++i) {
                INFO("step " << t + 1 << ", variable " << k << ", element " << i);
                const double got = params[k]->value[static_cast<int64_t>(i)], want = ref[k][i];
                CHECK(std::fabs(got - want) <= 1e-6 * std::max(std::fabs(want), 0.1));  // relative, on the weights' scale
            }
    }
}

}  // namespace

TEST_CASE("SGD, with momentum and Nesterov momentum, matches Keras 3 over 5 steps", "[optimizers][keras]") {
    compare("sgd", {});
    compare("sgd", {{"learning_rate", 0.1}});
    compare("sgd", {{"learning_rate", 0.1}, {"momentum", 0.9}});
    compare("sgd", {{"learning_rate", 0.1}, {"momentum", 0.5}, {"nesterov", 1}});
    compare("sgd", {{"learning_rate", 0.1}, {"weight_decay", 0.5}});
}

TEST_CASE("RMSprop divides by sqrt(v + epsilon) as Keras 3 does, plain, centered and with momentum", "[optimizers][keras]") {
    compare("rmsprop", {});
    compare("rmsprop", {{"learning_rate", 0.01}, {"epsilon", 0.01}});  // where sqrt(v) + eps is 100 % off
    compare("rmsprop", {{"learning_rate", 0.01}, {"rho", 0.5}, {"epsilon", 1e-3}});
    compare("rmsprop", {{"learning_rate", 0.01}, {"momentum", 0.8}, {"epsilon", 0.01}});
    compare("rmsprop", {{"learning_rate", 0.01}, {"centered", 1}, {"epsilon", 0.01}});
    compare("rmsprop", {{"learning_rate", 0.01}, {"centered", 1}, {"momentum", 0.9}});
    compare("rmsprop", {{"learning_rate", 0.01}, {"weight_decay", 0.2}});
}

TEST_CASE("Adam, AMSGrad and AdamW match Keras 3 over 5 steps", "[optimizers][keras]") {
    compare("adam", {});
    compare("adam", {{"learning_rate", 0.05}, {"beta_1", 0.5}, {"beta_2", 0.9}, {"epsilon", 0.1}});
    compare("adam", {{"learning_rate", 0.05}, {"amsgrad", 1}});
    compare("adam", {{"learning_rate", 0.05}, {"weight_decay", 0.1}});
    compare("adamw", {});
    compare("adamw", {{"learning_rate", 0.05}, {"weight_decay", 0.3}, {"amsgrad", 1}});
}

TEST_CASE("clipnorm, global_clipnorm and clipvalue clip as Keras 3 does", "[optimizers][keras]") {
    compare("sgd", {{"learning_rate", 0.1}, {"clipnorm", 0.8}}, true);
    compare("sgd", {{"learning_rate", 0.1}, {"momentum", 0.9}, {"global_clipnorm", 1.1}}, true);
    compare("adam", {{"learning_rate", 0.05}, {"clipvalue", 0.3}}, true);
    compare("rmsprop", {{"learning_rate", 0.01}, {"clipnorm", 0.5}, {"centered", 1}}, true);
}

TEST_CASE("L1 and L2 penalties join the gradient before clipping and the update", "[optimizers][keras]") {
    compare("sgd", {{"learning_rate", 0.1}, {"momentum", 0.9}}, false, 0.01, 0.05);
    compare("adam", {{"learning_rate", 0.05}, {"clipnorm", 1.0}}, true, 0.02, 0.1);
}
