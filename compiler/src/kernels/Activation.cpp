#include "kernels/Activation.h"

#include "ir/Activation.h"

#include <functional>
#include <limits>
#include <map>
#include <stdexcept>

namespace cnnc::engine {
using namespace Halide;

static std::vector<Var> vars(int dims) {
    std::vector<Var> v;
    for (int i = 0; i < dims; ++i) v.emplace_back("d" + std::to_string(i));
    return v;
}

static std::vector<Expr> exprs(const std::vector<Var>& v) { return {v.begin(), v.end()}; }

namespace {

// TensorFlow's constants for tf.nn.selu (Keras' docs round them to 1.05070098 and 1.67326324).
constexpr float kSeluScale = 1.0507009873554805f, kSeluAlpha = 1.6732632423543772f;
constexpr float kLeakySlope = 0.2f;  // keras.activations.leaky_relu's default negative_slope

// exp(x) - 1 for x <= 0 without the cancellation near 0 (TensorFlow's elu and selu use expm1):
// a Taylor series where exp(x) - 1 would lose digits. Written without rounding tricks, which
// Halide's simplifier may fold away.
Expr expm1_nonpositive(Expr x) {
    Expr series = x * (1.f + x * (1.f / 2 + x * (1.f / 6 + x * (1.f / 24 + x * (1.f / 120)))));
    return select(x > -0.01f, series, exp(x) - 1.f);
}

// log(1 + u) for 0 <= u <= 1, likewise (the stable softplus needs it where exp(-|x|) is small).
Expr log1p_unit(Expr u) {
    Expr series = u * (1.f - u * (1.f / 2 - u * (1.f / 3 - u * (1.f / 4 - u * (1.f / 5)))));
    return select(u < 0.01f, series, log(1.f + u));
}

// Halide's exp gives 0, not inf, once its argument passes about 1.5e9 (its power of two overflows
// an int), so exp(-x) is not left to overflow: below -89 exp(-x) is already inf in float32 and the
// sigmoid 0. A NaN takes the formula and stays NaN.
Expr sigmoid(Expr x) { return select(x < -89.f, 0.f, 1.f / (1.f + exp(-x))); }

// log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)): no overflow, no cancellation.
Expr softplus(Expr x) { return max(x, 0.f) + log1p_unit(exp(-abs(x))); }

// The standard normal CDF, 0.5 erfc(-x / sqrt 2), as TensorFlow's exact gelu computes it. erfc by
// the Chebyshev fit of Numerical Recipes (erfcc, §6.2: relative error below 1.2e-7 everywhere), so
// the far negative tail keeps its digits where 1 + erf(x) would cancel.
Expr normal_cdf(Expr x) {
    Expr z = abs(x) * 0.70710678118654752f;
    Expr t = 1.f / (1.f + 0.5f * z);
    Expr poly = -1.26551223f +
                t * (1.00002368f +
                     t * (0.37409196f +
                          t * (0.09678418f +
                               t * (-0.18628806f +
                                    t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
    Expr half_erfc = 0.5f * t * exp(-z * z + poly);
    return select(x < 0, half_erfc, 1.f - half_erfc);
}

Expr normal_pdf(Expr x) { return 0.39894228040143268f * exp(-0.5f * x * x); }

// An activation's formulas: y from x, and dL/dz from v (y, or z where activation_traits(act).needs_input) and
// dL/dy. At the kinks the derivative is TensorFlow's (relu and relu6 take 0 there). softmax has
// none: it normalises over the channels (activation_forward, activation_backward).
struct Elementwise {
    std::function<Expr(Expr)> forward;
    std::function<Expr(Expr, Expr)> backward;
};

// One definition per line of ir/ActivationList.def; a line without one fails to link.
#define CNNC_ACTIVATION(name, props, doc) Elementwise act_##name();
#define CNNC_ACTIVATION_ALIAS(alias, name)
#include "ir/ActivationList.def"
#undef CNNC_ACTIVATION
#undef CNNC_ACTIVATION_ALIAS

Elementwise act_linear() { return {[](Expr x) { return x; }, [](Expr, Expr d) { return d; }}; }
Elementwise act_relu() { return {[](Expr x) { return max(x, 0.f); }, [](Expr y, Expr d) { return select(y > 0, d, 0.f); }}; }
Elementwise act_sigmoid() { return {[](Expr x) { return sigmoid(x); }, [](Expr y, Expr d) { return d * y * (1.f - y); }}; }
Elementwise act_softmax() { return {}; }
Elementwise act_tanh() { return {[](Expr x) { return tanh(x); }, [](Expr y, Expr d) { return d * (1.f - y * y); }}; }
Elementwise act_elu() {
    return {[](Expr x) { return select(x > 0, x, expm1_nonpositive(min(x, 0.f))); },
            [](Expr y, Expr d) { return select(y < 0, d * (y + 1.f), d); }};
}
Elementwise act_selu() {
    return {[](Expr x) { return kSeluScale * select(x > 0, x, kSeluAlpha * expm1_nonpositive(min(x, 0.f))); },
            [](Expr y, Expr d) { return select(y < 0, d * (y + kSeluScale * kSeluAlpha), d * kSeluScale); }};
}
// Its derivative sigmoid(x) = 1 - exp(-y).
Elementwise act_softplus() {
    return {[](Expr x) { return softplus(x); }, [](Expr y, Expr d) { return d * -expm1_nonpositive(-y); }};
}
Elementwise act_softsign() {
    return {[](Expr x) { return x / (1.f + abs(x)); }, [](Expr y, Expr d) { return d * (1.f - abs(y)) * (1.f - abs(y)); }};
}
// x sigmoid(x); derivative s (1 + z (1 - s)).
Elementwise act_swish() {
    return {[](Expr x) { return x * sigmoid(x); },
            [](Expr z, Expr d) {
                Expr s = sigmoid(z);
                return d * s * (1.f + z * (1.f - s));
            }};
}
// Keras' 'gelu' is gelu(x, approximate=False): x Phi(x); derivative Phi(z) + z phi(z).
Elementwise act_gelu() {
    return {[](Expr x) { return x * normal_cdf(x); }, [](Expr z, Expr d) { return d * (normal_cdf(z) + z * normal_pdf(z)); }};
}
// Keras' gelu(x, approximate=True), 0.5 x (1 + tanh(u)) with u = sqrt(2 / pi) (x + 0.044715 x^3),
// computed as x sigmoid(2u) (the same function: 0.5 (1 + tanh(u)) = sigmoid(2u)), which keeps its
// digits in the negative tail where 1 + tanh(u) cancels. Derivative s + z s (1 - s) 2 du/dz, whose
// second term is exactly 0 in float32 beyond |z| = 20 (s is 0 or 1), where z^2 may overflow and
// make it 0 * inf.
constexpr float kGeluC = 0.79788456080286536f, kGeluA = 0.044715f;  // sqrt(2 / pi), TensorFlow's cubic coefficient
Elementwise act_gelu_approximate() {
    return {[](Expr x) { return x * sigmoid(2.f * kGeluC * (x + kGeluA * x * x * x)); },
            [](Expr z, Expr d) {
                Expr s = sigmoid(2.f * kGeluC * (z + kGeluA * z * z * z));
                Expr curve = z * s * (1.f - s) * 2.f * kGeluC * (1.f + 3.f * kGeluA * z * z);
                return d * (s + select(abs(z) < 20.f, curve, 0.f));
            }};
}
Elementwise act_leaky_relu() {
    return {[](Expr x) { return select(x > 0, x, kLeakySlope * x); }, [](Expr y, Expr d) { return select(y > 0, d, kLeakySlope * d); }};
}
Elementwise act_relu6() {
    return {[](Expr x) { return clamp(x, 0.f, 6.f); }, [](Expr y, Expr d) { return select(y > 0 && y < 6, d, 0.f); }};
}
// Keras 3: relu6(x + 3) / 6.
Elementwise act_hard_sigmoid() {
    return {[](Expr x) { return clamp(x + 3.f, 0.f, 6.f) / 6.f; }, [](Expr y, Expr d) { return select(y > 0 && y < 1, d / 6.f, 0.f); }};
}
// exp(x), inf beyond 89 (where float32's exp is already inf) instead of Halide's 0 past 1.5e9.
Elementwise act_exponential() {
    return {[](Expr x) { return select(x > 89.f, std::numeric_limits<float>::infinity(), exp(x)); },
            [](Expr y, Expr d) { return d * y; }};
}
// -softplus(-x), stable as softplus; its derivative sigmoid(-x) = 1 - exp(y), y <= 0.
Elementwise act_log_sigmoid() {
    return {[](Expr x) { return -softplus(-x); }, [](Expr y, Expr d) { return d * -expm1_nonpositive(y); }};
}

// Keras 3's hard_silu: x hard_sigmoid(x); derivative 0 below -3, 1 above 3, (2z + 3) / 6 between.
Elementwise act_hard_swish() {
    return {[](Expr x) { return x * clamp(x + 3.f, 0.f, 6.f) / 6.f; },
            [](Expr z, Expr d) { return select(z <= -3.f, 0.f, z >= 3.f, d, d * (2.f * z + 3.f) / 6.f); }};
}
// tanh(s) for s >= 0 and sech(s)^2, from e = exp(-2 s) without cancellation near s = 0.
Expr tanh_nonnegative(Expr s) {
    Expr em1 = expm1_nonpositive(-2.f * s);  // e - 1
    return -em1 / (2.f + em1);
}
Expr sech2_nonnegative(Expr s) {
    Expr e = exp(-2.f * s);
    return 4.f * e / ((1.f + e) * (1.f + e));
}
// Keras 3: x tanh(softplus(x)); derivative tanh(sp) + z sech(sp)^2 sigmoid(z), sp = softplus(z).
Elementwise act_mish() {
    return {[](Expr x) { return x * tanh_nonnegative(softplus(x)); },
            [](Expr z, Expr d) {
                Expr sp = softplus(z);
                return d * (tanh_nonnegative(sp) + z * sech2_nonnegative(sp) * sigmoid(z));
            }};
}

const Elementwise& elementwise(const std::string& a) {
    static const std::map<std::string, Elementwise> table = {
#define CNNC_ACTIVATION(name, props, doc) {#name, act_##name()},
#define CNNC_ACTIVATION_ALIAS(alias, name)
#include "ir/ActivationList.def"
#undef CNNC_ACTIVATION
#undef CNNC_ACTIVATION_ALIAS
    };
    auto it = table.find(a);
    if (it == table.end()) throw std::logic_error("internal: activation '" + a + "' is not canonical");
    return it->second;
}

}  // namespace

Func activation_forward(const std::string& a, Func z, int dims, int channels) {
    auto v = vars(dims);
    auto args = exprs(v);
    Func y("act_" + a);
    const Elementwise& f = elementwise(a);
    if (!f.forward) {  // softmax
        // Stable: subtract the row maximum before exponentiating.
        RDom r(0, channels);
        std::vector<Expr> ra = args;
        ra[0] = r;
        Func m("softmax_max"), e("softmax_exp"), s("softmax_sum");
        std::vector<Var> rest(v.begin() + 1, v.end());
        std::vector<Expr> rest_e(rest.begin(), rest.end());
        m(rest) = maximum(z(ra));
        e(v) = exp(z(args) - m(rest_e));
        s(rest) = sum(e(ra));
        y(v) = e(args) / s(rest_e);
        m.compute_root();
        s.compute_root();
        e.compute_root();
        return y;
    }
    y(v) = f.forward(z(args));
    return y;
}

Expr activation_gradient(const std::string& a, Expr y, Expr dy) {
    const Elementwise& f = elementwise(a);
    if (!f.backward || activation_traits(a).needs_input) throw std::logic_error("internal: activation '" + a + "' has no derivative from its output");
    return f.backward(y, dy);
}

Func activation_backward(const std::string& a, Func val, Func dy, int dims, int channels, Expr dy_is_logits) {
    auto v = vars(dims);
    auto args = exprs(v);
    Func dz("dz_" + a);
    Expr V = val(args), D = dy(args);
    Expr g;
    const Elementwise& f = elementwise(a);
    if (!f.backward) {  // softmax
        // dz = y * (dy - sum_c dy*y): the softmax Jacobian applied to dy.
        RDom r(0, channels);
        std::vector<Expr> ra = args;
        ra[0] = r;
        std::vector<Var> rest(v.begin() + 1, v.end());
        std::vector<Expr> rest_e(rest.begin(), rest.end());
        Func dot("softmax_dot");
        dot(rest) = sum(dy(ra) * val(ra));
        dot.compute_root();
        g = V * (D - dot(rest_e));
    } else {
        g = f.backward(V, D);
    }
    dz(v) = select(dy_is_logits, D, g);
    return dz;
}

}  // namespace cnnc::engine
