#include "kernels/Activation.h"
#include "kernels/Configs.h"

#include <set>

#include "Error.h"

namespace cnnc::engine {
using namespace Halide;

static std::vector<Var> vars(int dims) {
    std::vector<Var> v;
    for (int i = 0; i < dims; ++i) v.emplace_back("d" + std::to_string(i));
    return v;
}

static std::vector<Expr> exprs(const std::vector<Var>& v) { return {v.begin(), v.end()}; }

static constexpr float kSeluScale = 1.0507009873554805f, kSeluAlpha = 1.6732632423543772f;

Func activation_forward(const std::string& a, Func z, int dims, int channels) {
    if (!activation_supported(a)) throw rt::UserError("activation '" + a + "' is not supported by the engine yet");
    auto v = vars(dims);
    auto args = exprs(v);
    Func y("act_" + a);
    Expr x = z(args);
    if (a == "softmax") {
        // Stable: subtract the row maximum before exponentiating.
        RDom r(0, channels);
        std::vector<Expr> ra = args;
        ra[0] = r;
        Func m("softmax_max"), e("softmax_exp"), s("softmax_sum");
        std::vector<Var> rest(v.begin() + 1, v.end());
        std::vector<Expr> rest_e(rest.begin(), rest.end());
        m(rest) = maximum(z(ra));
        std::vector<Expr> with_c = {v[0]};
        with_c.insert(with_c.end(), rest_e.begin(), rest_e.end());
        e(v) = exp(z(args) - m(rest_e));
        std::vector<Expr> era = ra;
        s(rest) = sum(e(era));
        y(v) = e(args) / s(rest_e);
        m.compute_root();
        s.compute_root();
        e.compute_root();
        return y;
    }
    Expr out = a == "linear"       ? x
               : a == "relu"       ? max(x, 0.f)
               : a == "sigmoid"    ? 1.f / (1.f + exp(-x))
               : a == "tanh"       ? tanh(x)
               : a == "elu"        ? select(x > 0, x, exp(x) - 1.f)
               : a == "selu"       ? kSeluScale * select(x > 0, x, kSeluAlpha * (exp(x) - 1.f))
               : a == "softplus"   ? max(x, 0.f) + log(1.f + exp(-abs(x)))
               : a == "softsign"   ? x / (1.f + abs(x))
               : a == "relu6"      ? clamp(x, 0.f, 6.f)
               : a == "leaky_relu" ? select(x > 0, x, 0.2f * x)
               : a == "hard_sigmoid" ? clamp(x / 6.f + 0.5f, 0.f, 1.f)
                                     : exp(x);  // exponential
    y(v) = out;
    return y;
}

Func activation_backward(const std::string& a, Func y, Func dy, int dims, int channels, Expr dy_is_logits) {
    auto v = vars(dims);
    auto args = exprs(v);
    Func dz("dz_" + a);
    Expr Y = y(args), D = dy(args);
    Expr g;
    if (a == "softmax") {
        // dz = y * (dy - sum_c dy*y): the softmax Jacobian applied to dy.
        RDom r(0, channels);
        std::vector<Expr> ra = args;
        ra[0] = r;
        std::vector<Var> rest(v.begin() + 1, v.end());
        std::vector<Expr> rest_e(rest.begin(), rest.end());
        Func dot("softmax_dot");
        dot(rest) = sum(dy(ra) * y(ra));
        dot.compute_root();
        g = Y * (D - dot(rest_e));
    } else {
        g = a == "linear"       ? D
            : a == "relu"       ? select(Y > 0, D, 0.f)
            : a == "sigmoid"    ? D * Y * (1.f - Y)
            : a == "tanh"       ? D * (1.f - Y * Y)
            : a == "elu"        ? D * select(Y > 0, 1.f, Y + 1.f)
            : a == "selu"       ? D * select(Y > 0, kSeluScale, Y + kSeluScale * kSeluAlpha)
            : a == "softplus"   ? D * (1.f - exp(-Y))
            : a == "softsign"   ? D * (1.f - abs(Y)) * (1.f - abs(Y))
            : a == "relu6"      ? select(Y > 0 && Y < 6, D, 0.f)
            : a == "leaky_relu" ? select(Y > 0, D, 0.2f * D)
            : a == "hard_sigmoid" ? select(Y > 0 && Y < 1, D / 6.f, 0.f)
                                  : D * Y;  // exponential
    }
    dz(v) = select(dy_is_logits, D, g);
    return dz;
}

}  // namespace cnnc::engine
