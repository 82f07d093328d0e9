// The pooling fusion (rt::Op::tiled_max_pooling): a convolution whose only reader is a max pooling
// with windows that tile its output pools as it computes, writes the pooled tensor and each
// window's argmax, and routes the window's gradient to that cell in its backward kernels. The
// network's outputs and every gradient must be those of the two stages run apart (the plan
// without the fusion), for ragged edges, non-square and 1-D windows, strides, no bias, ties
// (where the first maximum in window order takes the gradient), training and inference; and
// where the rules forbid it (a second reader, overlapping or padded windows, average pooling) the
// plan must not fuse.
#include <fmt/format.h>

#include <cmath>

#include "EngineHelpers.h"
#include "GradientCheck.h"
#include "train/Loss.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

struct Step {
    rt::Tensor out;
    std::vector<rt::Tensor> grads;
};

// One forward (and, when training, backward through the fused loss) of `b` on `x`, planned with
// or without the fusion. `tie`: every convolution kernel zero and its bias 0.5 first, so each
// window's cells are equal and only the tie rule picks the one that takes the gradient.
Step step(Built& b, const rt::Tensor& x, bool fusion, bool training, bool tie) {
    b.net->set_pool_fusion(fusion);
    const int64_t n = x.shape()[0];
    b.net->prepare(n, training);
    if (tie)
        for (rt::Param* p : b.net->params())
            for (int64_t i = 0; i < p->value.size(); ++i)  // the Dense weights unequal, or every gradient cancels
                p->value[i] = p->name.find("dense") != std::string::npos ? 0.05f * static_cast<float>(i % 7) - 0.15f
                              : p->name.find("bias") != std::string::npos ? 0.5f
                                                                          : 0.f;
    rt::StepInfo s{training, 1, 3};
    rt::View o = b.net->forward(x.view(), s);
    Step r{rt::Tensor(o.shape), {}};
    std::copy(o.data, o.data + o.size(), r.out.data());
    if (!training) return r;
    rt::Tensor y(o.shape), g(o.shape);
    const int64_t classes = o.size() / n;
    y.fill(0);
    for (int64_t i = 0; i < n; ++i) y[i * classes + (i % classes)] = 1;
    rt::compute_loss(make_loss({"categorical_crossentropy"}), o, y.view(), g.data(), true);
    b.net->backward(g.view(), true, s);
    for (rt::Param* p : b.net->params()) r.grads.push_back(p->grad);
    return r;
}

void require_close(const rt::Tensor& fused, const rt::Tensor& plain, const std::string& what, bool some_nonzero) {
    INFO(what);
    REQUIRE(fused.size() == plain.size());
    int nonzero = 0;
    for (int64_t i = 0; i < plain.size(); ++i) {
        INFO("element " << i);
        REQUIRE(std::fabs(double(fused[i]) - plain[i]) <= 1e-6 + 1e-5 * std::fabs(double(plain[i])));
        nonzero += plain[i] != 0;
    }
    if (some_nonzero) CHECK(nonzero > 0);  // a comparison of something, not of zeros
}

// The index of the first stage of `b`'s network whose type is `layer`.
int stage_of(const Built& b, const std::string& layer) {
    const auto& st = b.net->stages();
    for (size_t i = 0; i < st.size(); ++i)
        if (st[i].name.find(layer) != std::string::npos) return static_cast<int>(i);
    return -1;
}

}  // namespace

TEST_CASE("a convolution that does the max pooling after it gives the unfused outputs and gradients", "[engine][gradients][fusion]") {
    struct Case {
        const char* layers;
        bool tie;
    };
    const Case cases[] = {
        {"input(9, 9, 3) Conv2D(8, 3, activation = relu) MaxPooling2D(2)", false},  // 7 -> 3: the last row and column dropped
        {"input(12, 10, 2) Conv2D(16, 3, padding = same, activation = tanh) MaxPooling2D((3, 2))", false},  // a 3 x 2 window
        {"input(11, 11, 3) Conv2D(8, 3, strides = 2, use_bias = false, activation = elu) MaxPooling2D(2)", false},
        {"input(20, 3) Conv1D(8, 3, activation = sigmoid) MaxPooling1D(3)", false},
        {"input(21, 3) Conv1D(8, 3, activation = relu) MaxPooling1D(3)", false},  // 19 columns: the last window's unrolled columns ragged
        {"input(8, 8, 2) Conv2D(8, 3, activation = relu) MaxPooling2D(2)", true},  // every window a tie
        {"input(8, 8, 2) Conv2D(8, 3, activation = linear) MaxPooling2D(2) Conv2D(4, 2, activation = relu) MaxPooling2D(2)", false},
    };
    for (const Case& k : cases) {
        DYNAMIC_SECTION(k.layers << (k.tie ? " (ties)" : "")) {
            const std::string code = fmt::format("model m {{ {} Flatten() Dense(3, activation = softmax) }}", k.layers);
            Built fused = build(code, 5), plain = build(code, 5);
            const int64_t n = 3;
            rt::Rng rng(11);
            rt::Dims xd = {n};
            xd.insert(xd.end(), fused.net->input_shape().begin(), fused.net->input_shape().end());
            rt::Tensor x(xd);
            fill_uniform(x.data(), x.size(), rng, -1, 1);
            for (bool training : {false, true}) {  // inference first: its kernel has no argmax output
                Step a = step(fused, x, true, training, k.tie), b = step(plain, x, false, training, k.tie);
                const int conv = stage_of(fused, "conv"), pool = stage_of(fused, "pooling");
                CHECK(fused.net->pooling_done_by(static_cast<size_t>(conv)) == pool);
                CHECK(plain.net->pooling_done_by(static_cast<size_t>(conv)) == -1);
                require_close(a.out, b.out, training ? "training output" : "inference output", true);
                for (size_t t = 0; t < a.grads.size(); ++t) require_close(a.grads[t], b.grads[t], fmt::format("gradient {}", t), true);
            }
        }
    }
}

TEST_CASE("a network whose convolutions pool their outputs matches finite differences", "[engine][gradients][fusion]") {
    Built b = build(R"(model m {
        input(10, 10, 2)
        Conv2D(4, 3, activation = tanh)
        MaxPooling2D(2)
        Conv2D(5, 2, padding = same, activation = relu)
        MaxPooling2D(2)
        Flatten()
        Dense(3, activation = softmax)
    })", 4);
    check_network_gradient(b, 3, 8);
    CHECK(b.net->pooling_done_by(0) == 1);
    CHECK(b.net->pooling_done_by(2) == 3);
    // The pooled convolution's dL/dx reaches the first one's pooled output, not a stage of its own.
    CHECK_FALSE(b.net->receives_preactivation_gradient(0));
}

TEST_CASE("the pooling stays a stage of its own where the fusion's rules do not hold", "[engine][fusion]") {
    const char* models[] = {
        "input(9, 9, 3) Conv2D(8, 3, activation = relu) MaxPooling2D(3, strides = 2) Flatten() Dense(3, activation = softmax)",
        // 7 -> 4: the last window reaches past the edge.
        "input(9, 9, 3) Conv2D(8, 3, activation = relu) MaxPooling2D(2, padding = same) Flatten() Dense(3, activation = softmax)",
        "input(9, 9, 3) Conv2D(8, 3, activation = relu) AveragePooling2D(2) Flatten() Dense(3, activation = softmax)",
        "input(9, 9, 3) Conv2D(8, 3, activation = relu) BatchNormalization() MaxPooling2D(2) Flatten() Dense(3, activation = softmax)",
        // The convolution's output has a second reader: it must be stored whole.
        "input(6, 6, 1) Conv2D(3, 3, padding = same, activation = tanh) as c MaxPooling2D(2) Flatten() as pooled from c "
        "GlobalAveragePooling2D() Concatenate(pooled) Dense(3, activation = softmax)",
    };
    for (const char* code : models) {
        DYNAMIC_SECTION(code) {
            Built b = build(fmt::format("model m {{ {} }}", code), 2);
            b.net->prepare(2, true);
            for (size_t k = 0; k < b.net->stages().size(); ++k) CHECK(b.net->pooling_done_by(k) == -1);
        }
    }
    // The second reader's case trains: both readers' gradients reach the convolution.
    Built b = build(fmt::format("model m {{ {} }}", models[4]), 2);
    check_network_gradient(b, 2, 6);
}
