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

// keras.optimizers.Optimizer._clip_gradients: clipnorm (per variable), else global_clipnorm, else
// clipvalue. Keras allows only one of them (the checker rejects a second).
void Optimizer::clip(const std::vector<Param*>& params) {
    const double cv = spec_.get("clipvalue", 0), cn = spec_.get("clipnorm", 0), gn = spec_.get("global_clipnorm", 0);
    auto norm2 = [](const Param* p) {
        double s = 0;
        for (int64_t i = 0; i < p->grad.size(); ++i) s += double(p->grad[i]) * p->grad[i];
        return s;
    };
    auto scale = [](Param* p, double f) {
        for (int64_t i = 0; i < p->grad.size(); ++i) p->grad[i] = static_cast<float>(p->grad[i] * f);
    };
    if (cn > 0) {
        for (Param* p : params) scale(p, cn / std::max(std::sqrt(norm2(p)), cn));  // g * cn / max(|g|, cn)
    } else if (gn > 0) {
        double s = 0;
        for (Param* p : params) s += norm2(p);
        for (Param* p : params) scale(p, gn * std::min(1 / std::sqrt(s), 1 / gn));
    } else if (cv > 0) {
        for (Param* p : params)
            for (int64_t i = 0; i < p->grad.size(); ++i) p->grad[i] = static_cast<float>(std::clamp<double>(p->grad[i], -cv, cv));
    }
}

// One step in Keras 3's order (base_optimizer.apply): gradients (regularizer penalties are part of
// the loss, so of its gradient), clipping, decoupled weight decay, then the update rule. Each rule
// is the one in keras/src/optimizers/<name>.py, computed in double per element.
void Optimizer::step(const std::vector<Param*>& all) {
    std::vector<Param*> params;
    for (Param* p : all)
        if (p->trainable) params.push_back(p);
    if (slots.size() != params.size()) {
        slots.assign(params.size(), {});
        for (size_t i = 0; i < params.size(); ++i) {
            int n = spec_.name == "sgd" ? 1 : 3;  // sgd: momentum; rmsprop: velocity, average_gradient, momentum;
            for (int s = 0; s < n; ++s) {         // adam(w): momentum, velocity, velocity_hat
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
        if (wd > 0)  // _apply_weight_decay: w - w * wd * lr, before the update
            for (int64_t i = 0; i < n; ++i) w[i] = static_cast<float>(w[i] - w[i] * wd * lr);
        if (spec_.name == "sgd") {
            const double mom = spec_.get("momentum", 0);
            const bool nesterov = spec_.get("nesterov", 0) != 0;
            float* m = slots[k][0].data();
            for (int64_t i = 0; i < n; ++i) {
                if (mom == 0) {
                    w[i] = static_cast<float>(w[i] - lr * g[i]);
                    continue;
                }
                const double mi = mom * m[i] - lr * g[i];
                m[i] = static_cast<float>(mi);
                w[i] = static_cast<float>(w[i] + (nesterov ? mom * mi - lr * g[i] : mi));
            }
        } else if (spec_.name == "rmsprop") {
            const double rho = spec_.get("rho", 0.9), eps = spec_.get("epsilon", 1e-7), mom = spec_.get("momentum", 0);
            const bool centered = spec_.get("centered", 0) != 0;
            float *v = slots[k][0].data(), *mg = slots[k][1].data(), *m = slots[k][2].data();
            for (int64_t i = 0; i < n; ++i) {
                const double vi = rho * v[i] + (1 - rho) * double(g[i]) * g[i];
                v[i] = static_cast<float>(vi);
                double denom = vi + eps;  // epsilon inside the square root, as Keras 3 (not PyTorch's sqrt(v) + eps)
                if (centered) {
                    const double a = rho * mg[i] + (1 - rho) * g[i];
                    mg[i] = static_cast<float>(a);
                    denom = vi - a * a + eps;
                }
                const double inc = lr * g[i] / std::sqrt(denom);
                if (mom > 0) {
                    const double mi = mom * m[i] + inc;
                    m[i] = static_cast<float>(mi);
                    w[i] = static_cast<float>(w[i] - mi);
                } else {
                    w[i] = static_cast<float>(w[i] - inc);
                }
            }
        } else {  // adam, adamw
            const double b1 = spec_.get("beta_1", 0.9), b2 = spec_.get("beta_2", 0.999), eps = spec_.get("epsilon", 1e-7);
            const bool amsgrad = spec_.get("amsgrad", 0) != 0;
            const double alpha = lr * std::sqrt(1 - std::pow(b2, double(t))) / (1 - std::pow(b1, double(t)));
            float *m = slots[k][0].data(), *v = slots[k][1].data(), *vhat = slots[k][2].data();
            for (int64_t i = 0; i < n; ++i) {
                const double mi = m[i] + (g[i] - double(m[i])) * (1 - b1);
                double vi = v[i] + (double(g[i]) * g[i] - v[i]) * (1 - b2);
                m[i] = static_cast<float>(mi);
                v[i] = static_cast<float>(vi);
                if (amsgrad) vhat[i] = static_cast<float>(vi = std::max<double>(vhat[i], vi));
                w[i] = static_cast<float>(w[i] - mi * alpha / (std::sqrt(vi) + eps));
            }
        }
    }
}

}  // namespace cnnc::rt
