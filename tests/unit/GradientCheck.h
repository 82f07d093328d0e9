// Gradients against central finite differences, shared by the engine tests (every layer alone,
// whole networks, graphs with fan-out and merges).
#pragma once
#include <cmath>
#include <functional>
#include <optional>
#include <string>

#include "EngineHelpers.h"
#include "sema/Written.h"
#include "train/Loss.h"

namespace cnnc::test {

// Tight enough that a gradient 1 % off fails: 1e-3 relative, plus 1e-4 absolute for the float32
// rounding of the outputs that the differences divide by the step.
inline bool gradient_close(double analytic, double numeric) {
    return std::fabs(analytic - numeric) <= 1e-3 * std::max(std::fabs(analytic), std::fabs(numeric)) + 1e-4;
}

// The central difference of `loss` in `v`, with the step as float32 represents it (the quotient
// divides by the step actually taken). Taken at two steps, `step` and half of it: where they
// disagree, a kink (relu at 0, the maximum of a pooling window changing hands) lies within the
// step, and the point says nothing: nullopt.
inline std::optional<double> central_difference(const std::function<double()>& loss, float& v, float step) {
    auto at = [&](float h) {
        const float keep = v, up = keep + h, down = keep - h;
        v = up;
        const double lp = loss();
        v = down;
        const double lm = loss();
        v = keep;
        return (lp - lm) / (double(up) - double(down));
    };
    const double wide = at(step), narrow = at(step / 2);
    if (!gradient_close(wide, narrow)) return std::nullopt;
    return narrow;
}

// Compares each analytic gradient with its central difference at `points` (every element of a
// small tensor, a random sample of a large one); at most a quarter may sit on a kink. A layer
// alone takes steps of 1e-2 (its float32 rounding then costs little); a whole network, where a
// first-layer weight moves many relu and pooling kinks, 1e-3.
inline void check_gradient(const rt::Tensor& analytic, rt::Tensor& value, const std::function<double()>& loss, rt::Rng& rng,
                    const std::string& what, float step = 1e-2f) {
    const int64_t n = value.size(), points = std::min<int64_t>(n, 48);
    int checked = 0, kinks = 0;
    for (int64_t t = 0; t < points; ++t) {
        const int64_t i = n == points ? t : static_cast<int64_t>(rng.below(static_cast<uint64_t>(n)));
        auto numeric = central_difference(loss, value[i], step);
        if (!numeric) {
            ++kinks;
            continue;
        }
        ++checked;
        INFO(what << "[" << i << "]: analytic " << analytic[i] << ", numeric " << *numeric);
        CHECK(gradient_close(analytic[i], *numeric));
    }
    INFO(what << ": " << kinks << " of " << points << " points within a step of a kink");
    CHECK(kinks * 4 <= points);
}

// A whole network's fused softmax cross-entropy gradient: every weight's against finite
// differences, for `n` samples in ±1 with one-hot targets (sample i is class i mod classes).
// Steps of 1e-3 where relu and pooling kinks are many; a smooth network (tanh) takes 1e-2, where
// the float32 rounding of the loss weighs ten times less against the step.
inline void check_network_gradient(Built& b, int64_t n, uint64_t seed, float step = 1e-3f) {
    b.net->prepare(n, true);
    rt::Rng rng(seed);
    const Shape in = b.model().input, out = b.model().output();
    rt::Dims xd = {n}, yd = {n};
    xd.insert(xd.end(), in.dims.begin(), in.dims.end());
    yd.insert(yd.end(), out.dims.begin(), out.dims.end());
    rt::Tensor x(xd), y(yd);
    const int64_t classes = out.elements();
    fill_uniform(x.data(), x.size(), rng, -1, 1);
    y.fill(0);
    for (int64_t i = 0; i < n; ++i) y[i * classes + (i % classes)] = 1;
    rt::LossSpec loss = make_loss({"categorical_crossentropy"});
    rt::StepInfo s{true, 1, 3};
    REQUIRE(b.net->output_owns_activation());
    auto loss_at = [&]() {
        rt::View o = b.net->forward(x.view(), s);
        return rt::compute_loss(loss, o, y.view(), nullptr, false);
    };
    rt::View o = b.net->forward(x.view(), s);
    rt::Tensor g(o.shape);
    rt::compute_loss(loss, o, y.view(), g.data(), true);
    b.net->backward(g.view(), true, s);
    for (rt::Param* p : b.net->params()) check_gradient(p->grad, p->value, loss_at, rng, p->name, step);
}

}  // namespace cnnc::test
