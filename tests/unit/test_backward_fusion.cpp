// The backward fusion of an activation into the stage that reads it (rt::Op::output_activation):
// the reader's kernel (a pooling's, or a convolution's input gradient) applies the activation's
// derivative to the dL/dx it writes, and the stage before it (a convolution, or an Activation
// layer) takes dL/dz and never reads y. The gradients must be those of the two stages run apart,
// for every pooling kernel (tiled and general max, average with padding, global, 1-D), for
// convolutions (strided, depthwise) and for activations whose derivatives differ in form.
#include <fmt/format.h>

#include <cmath>

#include "EngineHelpers.h"
#include "GradientCheck.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

rt::Tensor batch(int64_t n, const rt::Dims& per_sample) {
    rt::Dims d = {n};
    d.insert(d.end(), per_sample.begin(), per_sample.end());
    return rt::Tensor(d);
}

// The producer's dL/dx and its params' gradients, after forward and backward through the first two
// stages of `b` run as ops, with the fusion (the reader applies the producer's derivative, the
// producer takes dL/dz) or without it. `x` and the output gradient `d` are the same for both.
std::vector<rt::Tensor> gradients(Built& b, const rt::Tensor& x, const rt::Tensor& d, bool fused) {
    const auto& stages = b.net->stages();
    rt::Op& producer = *stages.at(0).op;
    rt::Op& reader = *stages.at(1).op;
    const std::string act = producer.output_activation();
    REQUIRE_FALSE(act.empty());
    REQUIRE(reader.accepts_input_activation(act));
    reader.set_input_activation(fused ? act : "");
    producer.set_preactivation_gradient(fused);
    producer.prepare_backward(true);
    reader.prepare_backward(true);
    const int64_t n = x.shape()[0];
    rt::Tensor y = batch(n, stages[0].out_shape), p = batch(n, stages[1].out_shape), g = batch(n, stages[0].out_shape),
               dx = batch(n, rt::Dims(x.shape().begin() + 1, x.shape().end()));
    rt::StepInfo s{true, 1, 1};
    producer.forward(x.view(), y.view(), s);
    reader.forward(y.view(), p.view(), s);
    rt::View gv = g.view(), dxv = dx.view();
    reader.backward(y.view(), p.view(), d.view(), &gv, false, s);
    producer.backward(x.view(), y.view(), g.view(), &dxv, fused, s);
    std::vector<rt::Tensor> out = {dx};
    for (rt::Param& w : producer.params) out.push_back(w.grad);
    return out;
}

}  // namespace

TEST_CASE("a pooling or a convolution that applies its producer's activation derivative gives the unfused gradients",
          "[engine][gradients][fusion]") {
    const char* models[] = {
        "input(9, 9, 3) Conv2D(8, 3, activation = relu) MaxPooling2D(2)",  // tiled windows, a ragged edge
        "input(9, 9, 3) Conv2D(8, 3, activation = relu) MaxPooling2D(3, strides = 2)",  // overlapping: argmax
        "input(9, 9, 3) Conv2D(8, 3, activation = relu) AveragePooling2D(2, padding = same)",
        "input(9, 9, 3) Conv2D(8, 3, activation = relu) GlobalMaxPooling2D()",
        "input(9, 9, 3) Conv2D(8, 3, activation = relu) GlobalAveragePooling2D()",
        "input(9, 9, 3) Conv2D(8, 3, activation = elu) MaxPooling2D(3, strides = 2)",
        "input(20, 3) Conv1D(8, 3, activation = tanh) MaxPooling1D(3)",
        "input(7, 7, 8) Activation(sigmoid) MaxPooling2D(2)",
        "input(9, 9, 3) Conv2D(8, 3, activation = relu) Conv2D(6, 3, padding = same)",
        "input(9, 9, 3) Conv2D(8, 3, activation = relu) Conv2D(6, 3, strides = 2)",  // dx's taps between dz's pixels
        "input(9, 9, 3) Conv2D(8, 3, activation = tanh) DepthwiseConv2D(3, padding = same)",
    };
    for (const char* code : models) {
        DYNAMIC_SECTION(code) {
            Built b = build(fmt::format("model m {{ {} }}", code), 3);
            const int64_t n = 3;
            rt::Rng rng(17);
            rt::Tensor x = batch(n, b.net->input_shape()), d = batch(n, b.net->stages().at(1).out_shape);
            fill_uniform(x.data(), x.size(), rng, -1, 1);
            fill_uniform(d.data(), d.size(), rng, -1, 1);
            const std::vector<rt::Tensor> plain = gradients(b, x, d, false), fused = gradients(b, x, d, true);
            REQUIRE(plain.size() == fused.size());
            for (size_t t = 0; t < plain.size(); ++t) {
                INFO("gradient " << t << " (0: dL/dx, then the params')");
                double largest = 0;
                int nonzero = 0;
                for (int64_t i = 0; i < plain[t].size(); ++i) {
                    largest = std::max(largest, std::fabs(double(plain[t][i])));
                    nonzero += plain[t][i] != 0;
                    INFO("element " << i);
                    REQUIRE(std::fabs(double(fused[t][i]) - plain[t][i]) <= 1e-6 + 1e-5 * std::fabs(double(plain[t][i])));
                }
                CHECK(nonzero > plain[t].size() / 8);  // a gradient that says something, not zeros on both sides
            }
        }
    }
}

TEST_CASE("training pairs each activation with the convolution or pooling after it, and the network's gradients still match "
          "finite differences",
          "[engine][gradients][fusion]") {
    Built b = build(R"(model m {
        input(10, 10, 2)
        Conv2D(4, 3, activation = tanh)
        Conv2D(5, 3, activation = relu)
        MaxPooling2D(3, strides = 2)
        Conv2D(6, 2, padding = same, activation = sigmoid)
        GlobalAveragePooling2D()
        Dense(3, activation = softmax)
    })", 4);
    check_network_gradient(b, 3, 8);
    CHECK(b.net->receives_preactivation_gradient(0));  // → the next convolution's input gradient
    // → max pooling (overlapping windows: a tiled one would be done by the convolution itself,
    // test_pool_fusion.cpp)
    CHECK(b.net->receives_preactivation_gradient(1));
    CHECK(b.net->receives_preactivation_gradient(3));  // → global average pooling
    CHECK_FALSE(b.net->receives_preactivation_gradient(5));  // the output: the loss hands it dL/dlogits
}
