#include "train/Optimizer.h"

#include <algorithm>
#include <cmath>

namespace cnnc::rt {

Optimizer::Optimizer(std::string name, const OptimizerCommon& common, int slots_per_param, double slot_init)
    : learning_rate(common.learning_rate), name_(std::move(name)), common_(common), slots_per_param_(slots_per_param), slot_init_(slot_init) {}

// keras.optimizers.Optimizer._clip_gradients: clipnorm (per variable), else global_clipnorm, else
// clipvalue. Keras allows only one of them (the checker rejects a second).
void Optimizer::clip(const std::vector<Param*>& params) const {
    auto norm2 = [](const Param* p) {
        double s = 0;
        for (int64_t i = 0; i < p->grad.size(); ++i) s += double(p->grad[i]) * p->grad[i];
        return s;
    };
    auto scale = [](Param* p, double f) {
        for (int64_t i = 0; i < p->grad.size(); ++i) p->grad[i] = static_cast<float>(p->grad[i] * f);
    };
    if (common_.clipnorm) {
        const double cn = *common_.clipnorm;
        for (Param* p : params) scale(p, cn / std::max(std::sqrt(norm2(p)), cn));  // g * cn / max(|g|, cn)
    } else if (common_.global_clipnorm) {
        const double gn = *common_.global_clipnorm;
        double s = 0;
        for (Param* p : params) s += norm2(p);
        for (Param* p : params) scale(p, gn * std::min(1 / std::sqrt(s), 1 / gn));
    } else if (common_.clipvalue) {
        const double cv = *common_.clipvalue;
        for (Param* p : params)
            for (int64_t i = 0; i < p->grad.size(); ++i) p->grad[i] = static_cast<float>(std::clamp<double>(p->grad[i], -cv, cv));
    }
}

std::vector<Param*> Optimizer::build(const std::vector<Param*>& all) {
    std::vector<Param*> params;
    for (Param* p : all)
        if (p->trainable) params.push_back(p);
    if (slots.size() != params.size()) {
        slots.assign(params.size(), {});
        for (size_t i = 0; i < params.size(); ++i)
            for (int s = 0; s < slots_per_param_; ++s) {
                slots[i].emplace_back(params[i]->value.shape());
                slots[i].back().fill(static_cast<float>(slot_init_));
            }
    }
    return params;
}

// One step in Keras 3's order (base_optimizer.apply): gradients (regularizer penalties are part of
// the loss, so of its gradient), clipping, decoupled weight decay, then the update rule.
void Optimizer::step(const std::vector<Param*>& all) {
    const std::vector<Param*> params = build(all);
    // Regularizer penalties: d/dw (l1 |w| + l2 w^2) = l1 sign(w) + 2 l2 w.
    for (Param* p : params)
        if (p->l1 != 0 || p->l2 != 0)
            for (int64_t i = 0; i < p->grad.size(); ++i) {
                float w = p->value[i];
                p->grad[i] += static_cast<float>(p->l1 * ((w > 0) - (w < 0)) + 2 * p->l2 * w);
            }
    clip(params);
    const double lr = learning_rate;
    const double wd = common_.weight_decay.value_or(0);
    const int64_t t = ++iterations;
    for (size_t k = 0; k < params.size(); ++k) {
        Param* p = params[k];
        float* w = p->value.data();
        const int64_t n = p->value.size();
        if (wd > 0)  // _apply_weight_decay: w - w * wd * lr, before the update
            for (int64_t i = 0; i < n; ++i) w[i] = static_cast<float>(w[i] - w[i] * wd * lr);
        update(w, p->grad.data(), n, slots[k], lr, t);
    }
}

void SgdRule::update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t) const {
    const double mom = momentum;
    float* m = slots[0].data();
    for (int64_t i = 0; i < n; ++i) {
        if (mom == 0) {
            w[i] = static_cast<float>(w[i] - lr * g[i]);
            continue;
        }
        const double mi = mom * m[i] - lr * g[i];
        m[i] = static_cast<float>(mi);
        w[i] = static_cast<float>(w[i] + (nesterov ? mom * mi - lr * g[i] : mi));
    }
}

void RMSpropRule::update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t) const {
    const double eps = epsilon, mom = momentum;
    float *v = slots[0].data(), *mg = slots[1].data(), *m = slots[2].data();
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
}

void AdamRule::update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) const {
    const double b1 = beta_1, b2 = beta_2, eps = epsilon;
    const double alpha = lr * std::sqrt(1 - std::pow(b2, double(t))) / (1 - std::pow(b1, double(t)));
    float *m = slots[0].data(), *v = slots[1].data(), *vhat = slots[2].data();
    for (int64_t i = 0; i < n; ++i) {
        const double mi = m[i] + (g[i] - double(m[i])) * (1 - b1);
        double vi = v[i] + (double(g[i]) * g[i] - v[i]) * (1 - b2);
        m[i] = static_cast<float>(mi);
        v[i] = static_cast<float>(vi);
        if (amsgrad) vhat[i] = static_cast<float>(vi = std::max<double>(vhat[i], vi));
        w[i] = static_cast<float>(w[i] - mi * alpha / (std::sqrt(vi) + eps));
    }
}

void AdagradRule::update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t) const {
    float* acc = slots[0].data();
    for (int64_t i = 0; i < n; ++i) {
        const double a = acc[i] + double(g[i]) * g[i];
        acc[i] = static_cast<float>(a);
        w[i] = static_cast<float>(w[i] - lr * g[i] / std::sqrt(a + epsilon));
    }
}

double NadamRule::u(int64_t s) const { return beta_1 * (1 - 0.5 * std::pow(0.96, double(s))); }

double NadamRule::u_product(int64_t t) const {
    if (t < product_step) product_step = 0, product = 1;
    while (product_step < t) product *= u(++product_step);
    return product;
}

// Keras multiplies u_t into the product before the step's updates (_backend_update_step), so step
// t sees u_1 ... u_t, and u_1 ... u_t+1 for the next step's momentum.
void NadamRule::update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) const {
    const double u_t = u(t), u_next = u(t + 1), p_t = u_product(t), p_next = p_t * u_next;
    const double v_correction = 1 - std::pow(beta_2, double(t));
    float *m = slots[0].data(), *v = slots[1].data();
    for (int64_t i = 0; i < n; ++i) {
        const double mi = m[i] + (g[i] - double(m[i])) * (1 - beta_1);
        const double vi = v[i] + (double(g[i]) * g[i] - v[i]) * (1 - beta_2);
        m[i] = static_cast<float>(mi);
        v[i] = static_cast<float>(vi);
        const double m_hat = u_next * mi / (1 - p_next) + (1 - u_t) * g[i] / (1 - p_t);
        w[i] = static_cast<float>(w[i] - m_hat * lr / (std::sqrt(vi / v_correction) + epsilon));
    }
}

void AdamaxRule::update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, double lr, int64_t t) const {
    const double m_correction = 1 - std::pow(beta_1, double(t));
    float *m = slots[0].data(), *u = slots[1].data();
    for (int64_t i = 0; i < n; ++i) {
        const double mi = m[i] + (g[i] - double(m[i])) * (1 - beta_1);
        const double ui = std::max(beta_2 * u[i], std::fabs(double(g[i])));
        m[i] = static_cast<float>(mi);
        u[i] = static_cast<float>(ui);
        w[i] = static_cast<float>(w[i] - lr * mi / (m_correction * (ui + epsilon)));
    }
}

}  // namespace cnnc::rt
