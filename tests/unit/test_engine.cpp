// The engine against numbers computed by hand, and every layer's gradients against finite
// differences. The gradient harness runs over the layer list: a new layer is covered by its
// worked examples in layers/.
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <optional>

#include "EngineHelpers.h"
#include "GradientCheck.h"
#include "sema/Written.h"
#include "train/Loss.h"
#include "train/Optimizer.h"

using namespace cnnc;
using namespace cnnc::test;

static rt::Tensor batch_of(const Shape& per_sample, int64_t n) {
    rt::Dims d = {n};
    d.insert(d.end(), per_sample.dims.begin(), per_sample.dims.end());
    return rt::Tensor(d);
}

TEST_CASE("the seed's 5x5 input with the 3x3 [1 0 -1] kernel gives 6 at the top left", "[engine][seed]") {
    Built b = build("model m { input(5, 5, 1) Conv2D(1, 3, use_bias = false) }");
    rt::Param& k = *b.net->params().at(0);
    REQUIRE(k.value.shape() == rt::Dims{3, 3, 1, 1});
    const float col[3] = {1, 0, -1};
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) k.value[r * 3 + c] = col[c];
    const float in[25] = {7, 2, 3, 3, 8, 4, 5, 3, 8, 4, 3, 3, 2, 8, 4, 2, 8, 7, 2, 7, 5, 4, 4, 5, 4};
    rt::Tensor x({1, 5, 5, 1});
    std::copy(in, in + 25, x.data());
    b.net->prepare(1, false);
    rt::View y = b.net->forward(x.view(), {});
    REQUIRE(y.shape == rt::Dims{1, 3, 3, 1});
    const float want[9] = {6, -9, -8, -3, -2, -3, -3, 0, -2};  // worked out by hand from the seed's matrix
    for (int i = 0; i < 9; ++i) CHECK(y[i] == want[i]);
}

TEST_CASE("max and average pooling by hand", "[engine]") {
    const float in[16] = {1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 1, 1, 9, 2, 1, 6};
    rt::Tensor x({1, 4, 4, 1});
    std::copy(in, in + 16, x.data());
    Built mx = build("model m { input(4, 4, 1) MaxPooling2D(2) }");
    mx.net->prepare(1, false);
    rt::View y = mx.net->forward(x.view(), {});
    CHECK(std::vector<float>(y.data, y.data + 4) == std::vector<float>{5, 8, 9, 6});
    Built av = build("model m { input(4, 4, 1) AveragePooling2D(2) }");
    av.net->prepare(1, false);
    y = av.net->forward(x.view(), {});
    CHECK(std::vector<float>(y.data, y.data + 4) == std::vector<float>{13 / 4.f, 11 / 4.f, 11 / 4.f, 9 / 4.f});
    // 'same' averaging counts only the cells inside the image: the 3x3 map's corner window (2x2
    // at stride 2) holds one cell.
    Built same = build("model m { input(3, 3, 1) AveragePooling2D(2, padding = same) }");
    rt::Tensor x3({1, 3, 3, 1});
    for (int i = 0; i < 9; ++i) x3[i] = static_cast<float>(i + 1);
    same.net->prepare(1, false);
    y = same.net->forward(x3.view(), {});
    CHECK(std::vector<float>(y.data, y.data + 4) == std::vector<float>{3, 4.5f, 7.5f, 9});
}

TEST_CASE("dense with softmax: probabilities that sum to one", "[engine]") {
    Built b = build("model m { input(3) Dense(4, activation = softmax) }");
    rt::Rng rng(3);
    for (rt::Param* p : b.net->params()) fill_uniform(p->value.data(), p->value.size(), rng, -1, 1);
    rt::Tensor x({2, 3});
    fill_uniform(x.data(), x.size(), rng, -1, 1);
    b.net->prepare(2, false);
    rt::View y = b.net->forward(x.view(), {});
    for (int n = 0; n < 2; ++n) {
        double s = 0, z[4];
        for (int u = 0; u < 4; ++u) {
            z[u] = b.net->params()[1]->value[u];
            for (int k = 0; k < 3; ++k) z[u] += double(x[n * 3 + k]) * b.net->params()[0]->value[k * 4 + u];
        }
        double m = *std::max_element(z, z + 4), e = 0;
        for (double v : z) e += std::exp(v - m);
        for (int u = 0; u < 4; ++u) {
            CHECK(y[n * 4 + u] == Approx(std::exp(z[u] - m) / e).epsilon(1e-5));
            s += y[n * 4 + u];
        }
        CHECK(s == Approx(1.0).epsilon(1e-6));
    }
}

namespace {
// L = sum(y * R) for a fixed random R, accumulated in float64.
double probe(rt::Op& op, const rt::View& x, rt::Tensor& y, const rt::Tensor& r, const rt::StepInfo& s) {
    op.forward(x, y.view(), s);
    double l = 0;
    for (int64_t i = 0; i < y.size(); ++i) l += double(y[i]) * r[i];
    return l;
}

// Uniform in +-1/sqrt(fan in) for kernels (so pre-activations stay where activations have slope),
// +-0.5 for biases and tables, 0.5 to 1.5 for variances (BatchNormalization's moving_variance).
void fill_weights(rt::Param& p, rt::Rng& rng) {
    if (p.name.find("variance") != std::string::npos) return fill_uniform(p.value.data(), p.value.size(), rng, 0.5, 1.5);
    const auto& d = p.value.shape();
    const double limit = d.size() >= 2 && p.name.find("kernel") != std::string::npos
                             ? 1 / std::sqrt(double(p.value.size() / d.back()))
                             : 0.5;
    fill_uniform(p.value.data(), p.value.size(), rng, -limit, limit);
}
}  // namespace

TEST_CASE("every layer's gradients match finite differences", "[engine][gradients]") {
    for (const LayerKind* k : all_layers())
        for (size_t e = 0; e < k->examples.size() && !k->is_merge(); ++e) {  // merges: h/engine's own test
        DYNAMIC_SECTION(k->name << " example " << e + 1) {
            const LayerExample& ex = k->examples[e];
            std::string dims;
            for (size_t i = 0; i < ex.in.rank(); ++i) dims += (i ? ", " : "") + std::to_string(ex.in[i]);
            Built b = build(fmt::format("model t {{ input({}) {} }}", dims, ex.code), 5);
            rt::Op& op = *b.net->stages().at(0).op;
            const int64_t n = 2;
            rt::Rng rng(11);
            rt::Tensor x = batch_of(ex.in, n), y = batch_of(ex.out, n), r = batch_of(ex.out, n), dx = batch_of(ex.in, n);
            bool ids = k->name == "Embedding";
            if (ids) for (int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng.below(static_cast<uint64_t>(b.model().layers[0].args.integer("input_dim"))));
            else fill_uniform(x.data(), x.size(), rng, -1, 1);
            fill_uniform(r.data(), r.size(), rng, -1, 1);
            for (rt::Param& p : op.params) fill_weights(p, rng);
            rt::StepInfo s{!k->augmentation, 42, 7};  // random transforms are checked in inference mode
            if (op.is_view()) {
                SUCCEED("a view: its gradient is the reshaped output gradient");
                continue;
            }
            op.prepare_backward(!ids);
            probe(op, x.view(), y, r, s);
            rt::View dxv = dx.view();
            op.backward(x.view(), y.view(), r.view(), ids ? nullptr : &dxv, false, s);
            auto loss = [&]() { return probe(op, x.view(), y, r, s); };
            if (!ids) check_gradient(dx, x, loss, rng, k->name + " dx");
            for (rt::Param& p : op.params)  // a non-trainable weight (frozen, or a moving statistic) gets no gradient
                if (p.trainable) check_gradient(p.grad, p.value, loss, rng, k->name + " " + p.name);
        }
        }
}

TEST_CASE("a whole network's loss gradient (fused softmax cross-entropy) matches finite differences", "[engine][gradients]") {
    Built b = build(R"(model m {
        input(8, 8, 2)
        Conv2D(4, 3, activation = relu)
        MaxPooling2D(2)
        Conv2D(8, 2, padding = same, activation = tanh)
        Flatten()
        Dropout(0.25)
        Dense(5, activation = softmax)
    })", 9);
    check_network_gradient(b, 3, 5);
}

TEST_CASE("optimizers take Keras' first steps", "[engine][optimizers]") {
    auto one_step = [](const std::string& name, std::map<std::string, double> args) {
        rt::Param p;
        p.value = rt::Tensor({2});
        p.grad = rt::Tensor({2});
        p.value[0] = 1, p.value[1] = -2;
        p.grad[0] = 0.5f, p.grad[1] = -1;
        auto opt_owner = make_optimizer({name, std::move(args)});
        rt::Optimizer& opt = *opt_owner;
        opt.step({&p});
        return std::vector<float>{p.value[0], p.value[1]};
    };
    // SGD: w - lr g.
    auto sgd = one_step("sgd", {{"learning_rate", 0.1}});
    CHECK(sgd[0] == Approx(0.95f));
    CHECK(sgd[1] == Approx(-1.9f));
    // RMSprop: v = 0.1 g^2; w - lr g / (sqrt(v) + 1e-7) = w - 0.001 sign(g) / sqrt(0.1).
    auto rms = one_step("rmsprop", {});
    CHECK(rms[0] == Approx(1 - 0.001 / std::sqrt(0.1)).epsilon(1e-5));
    CHECK(rms[1] == Approx(-2 + 0.001 / std::sqrt(0.1)).epsilon(1e-5));
    // Adam's first step moves every weight by about lr against its gradient's sign.
    auto adam = one_step("adam", {});
    CHECK(adam[0] == Approx(1 - 0.001).epsilon(1e-4));
    CHECK(adam[1] == Approx(-2 + 0.001).epsilon(1e-4));
}

TEST_CASE("losses: Keras' values and fused gradients", "[engine][losses]") {
    rt::Tensor p({1, 3}), t({1, 3});
    p[0] = 0.7f, p[1] = 0.2f, p[2] = 0.1f;
    t[0] = 1, t[1] = 0, t[2] = 0;
    rt::Tensor g({1, 3});
    double l = rt::compute_loss(make_loss({"categorical_crossentropy"}), p.view(), t.view(), g.data(), true);
    CHECK(l == Approx(-std::log(0.7)).epsilon(1e-6));
    CHECK(g[0] == Approx(-0.3f));
    CHECK(g[1] == Approx(0.2f));
    rt::Tensor ps({2, 1}), ts({2, 1});
    ps[0] = 0.9f, ps[1] = 0.4f, ts[0] = 1, ts[1] = 0;
    double b = rt::compute_loss(make_loss({"binary_crossentropy"}), ps.view(), ts.view(), nullptr, false);
    CHECK(b == Approx(-(std::log(0.9) + std::log(0.6)) / 2).epsilon(1e-6));
    rt::Tensor idx({1, 1});
    idx[0] = 0;
    CHECK(rt::compute_loss(make_loss({"sparse_categorical_crossentropy"}), p.view(), idx.view(), nullptr, false) ==
          Approx(-std::log(0.7)).epsilon(1e-6));
}

TEST_CASE("a frozen layer's weights do not change in training, its successors' do", "[engine][frozen]") {
    Built b = build(R"(model m {
        input(6, 6, 1)
        Conv2D(4, 3, activation = relu, trainable = false)
        Flatten()
        Dense(3, activation = softmax)
    })", 4);
    b.net->prepare(8, true);
    rt::Rng rng(2);
    rt::Tensor x({8, 6, 6, 1}), y({8, 3});
    fill_uniform(x.data(), x.size(), rng, -1, 1);
    y.fill(0);
    for (int i = 0; i < 8; ++i) y[i * 3 + i % 3] = 1;
    std::vector<rt::Tensor> before;
    for (rt::Param* p : b.net->params()) before.push_back(p->value);
    auto opt_owner = make_optimizer({"adam", {{"learning_rate", 0.1}}});
    rt::Optimizer& opt = *opt_owner;
    rt::LossSpec loss = make_loss({"categorical_crossentropy"});
    for (int step = 0; step < 5; ++step) {
        rt::StepInfo s{true, 1, step};
        rt::View out = b.net->forward(x.view(), s);
        rt::Tensor g(out.shape);
        rt::compute_loss(loss, out, y.view(), g.data(), true);
        b.net->backward(g.view(), true, s);
        opt.step(b.net->params());
    }
    auto params = b.net->params();
    for (size_t i = 0; i < params.size(); ++i) {
        bool same = true;
        for (int64_t k = 0; k < params[i]->value.size(); ++k) same &= params[i]->value[k] == before[i][k];
        INFO(params[i]->name);
        CHECK(same == !params[i]->trainable);
    }
    CHECK_FALSE(params[0]->trainable);
}
