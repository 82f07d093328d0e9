#include "train/Optimizer.h"

#include <algorithm>
#include <cmath>

#include "Error.h"

namespace cnnc::rt {

Optimizer::Optimizer(OptimizerSpec spec) : spec_(std::move(spec)) {
    if (spec_.name != "sgd" && spec_.name != "rmsprop" && spec_.name != "adam" && spec_.name != "adamw")
        throw UserError("optimizer '" + spec_.name + "' is not supported by the runtime");
    learning_rate = spec_.get("learning_rate", spec_.name == "sgd" ? 0.01 : 0.001);
}

// clipvalue, clipnorm (per variable) and global_clipnorm, as keras.optimizers.Optimizer applies them.
void Optimizer::clip(const std::vector<Param*>& params) {
    double cv = spec_.get("clipvalue", 0), cn = spec_.get("clipnorm", 0), gn = spec_.get("global_clipnorm", 0);
    if (cv > 0)
        for (Param* p : params)
            for (int64_t i = 0; i < p->grad.size(); ++i)
                p->grad[i] = static_cast<float>(std::clamp<double>(p->grad[i], -cv, cv));
    auto norm2 = [](const Param* p) {
        double s = 0;
        for (int64_t i = 0; i < p->grad.size(); ++i) s += double(p->grad[i]) * p->grad[i];
        return s;
    };
    auto scale = [](Param* p, double f) {
        for (int64_t i = 0; i < p->grad.size(); ++i) p->grad[i] = static_cast<float>(p->grad[i] * f);
    };
    if (cn > 0)
        for (Param* p : params) {
            double n = std::sqrt(norm2(p));
            if (n > cn) scale(p, cn / n);
        }
    if (gn > 0) {
        double s = 0;
        for (Param* p : params) s += norm2(p);
        double n = std::sqrt(s);
        if (n > gn)
            for (Param* p : params) scale(p, gn / n);
    }
}

void Optimizer::step(const std::vector<Param*>& all) {
    std::vector<Param*> params;
    for (Param* p : all)
        if (p->trainable) params.push_back(p);
    if (slots.size() != params.size()) {
        slots.assign(params.size(), {});
        for (size_t i = 0; i < params.size(); ++i) {
            int n = spec_.name == "sgd" ? 1 : spec_.name == "rmsprop" ? 3 : 3;
            for (int s = 0; s < n; ++s) {
                slots[i].emplace_back(params[i]->value.shape());
                slots[i].back().fill(0);
            }
        }
    }
    // Regularizer penalties: d/dw (l1 |w| + l2 w^2) = l1 sign(w) + 2 l2 w.
    for (Param* p : params)
        if (p->l1 != 0 || p->l2 != 0)
            for (int64_t i = 0; i < p->grad.size(); ++i) {
                float w = p->value[i];
                p->grad[i] += static_cast<float>(p->l1 * ((w > 0) - (w < 0)) + 2 * p->l2 * w);
            }
    clip(params);
    const double lr = learning_rate;
    const double wd = spec_.get("weight_decay", spec_.name == "adamw" ? 0.004 : 0);
    const int64_t t = ++iterations;
    for (size_t k = 0; k < params.size(); ++k) {
        Param* p = params[k];
        float* w = p->value.data();
        const float* g = p->grad.data();
        const int64_t n = p->value.size();
        if (wd > 0)  // decoupled weight decay, applied before the update (Keras 3)
            for (int64_t i = 0; i < n; ++i) w[i] -= static_cast<float>(w[i] * wd * lr);
        if (spec_.name == "sgd") {
            double mom = spec_.get("momentum", 0);
            bool nesterov = spec_.get("nesterov", 0) != 0;
            float* m = slots[k][0].data();
            for (int64_t i = 0; i < n; ++i) {
                if (mom == 0) {
                    w[i] -= static_cast<float>(lr * g[i]);
                } else {
                    m[i] = static_cast<float>(mom * m[i] - lr * g[i]);
                    w[i] += nesterov ? static_cast<float>(mom * m[i] - lr * g[i]) : m[i];
                }
            }
        } else if (spec_.name == "rmsprop") {
            const float rho = static_cast<float>(spec_.get("rho", 0.9)), eps = static_cast<float>(spec_.get("epsilon", 1e-7));
            const double mom = spec_.get("momentum", 0);
            const bool centered = spec_.get("centered", 0) != 0;
            float *v = slots[k][0].data(), *mg = slots[k][1].data(), *m = slots[k][2].data();
            const float flr = static_cast<float>(lr);
            for (int64_t i = 0; i < n; ++i) {
                v[i] = rho * v[i] + (1 - rho) * g[i] * g[i];
                float denom = v[i];
                if (centered) {
                    mg[i] = rho * mg[i] + (1 - rho) * g[i];
                    denom = v[i] - mg[i] * mg[i];
                }
                float inc = flr * g[i] / (std::sqrt(denom) + eps);
                if (mom > 0) {
                    m[i] = static_cast<float>(mom * m[i] + inc);
                    w[i] -= m[i];
                } else {
                    w[i] -= inc;
                }
            }
        } else {  // adam, adamw
            const double b1 = spec_.get("beta_1", 0.9), b2 = spec_.get("beta_2", 0.999), eps = spec_.get("epsilon", 1e-7);
            const bool amsgrad = spec_.get("amsgrad", 0) != 0;
            const float alpha = static_cast<float>(lr * std::sqrt(1 - std::pow(b2, double(t))) / (1 - std::pow(b1, double(t))));
            const float fb1 = static_cast<float>(1 - b1), fb2 = static_cast<float>(1 - b2), feps = static_cast<float>(eps);
            float *m = slots[k][0].data(), *v = slots[k][1].data(), *vmax = slots[k][2].data();
            for (int64_t i = 0; i < n; ++i) {
                m[i] += (g[i] - m[i]) * fb1;
                v[i] += (g[i] * g[i] - v[i]) * fb2;
                float vv = v[i];
                if (amsgrad) vv = vmax[i] = std::max(vmax[i], v[i]);
                w[i] -= alpha * m[i] / (std::sqrt(vv) + feps);
            }
        }
    }
}

}  // namespace cnnc::rt
