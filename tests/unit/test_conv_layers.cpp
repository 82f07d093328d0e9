// The conv family's new layers beyond their worked examples and the PyTorch references
// (test_conv_torch.cpp): SpatialDropout2D drops whole channels as Keras does, the new kernels are
// among those `cnnc build` compiles, and an executable with every new layer trains as `cnnc run` does.
#include <cmath>
#include <filesystem>
#include <fstream>

#include "Bars.h"
#include "EngineHelpers.h"
#include "TempDir.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

TEST_CASE("SpatialDropout2D: in training, each image's channel kept whole (scaled 1/(1-rate)) or zeroed, identity otherwise",
          "[layers][dropout]") {
    Built b = build("model t { input(4, 5, 64) SpatialDropout2D(0.5) }");
    rt::Op& op = *b.net->stages().at(0).op;
    const int64_t n = 3, hw = 20, c = 64;
    rt::Tensor x({n, 4, 5, c}), y({n, 4, 5, c}), y2({n, 4, 5, c});
    rt::Rng rng(2);
    fill_uniform(x.data(), x.size(), rng, 0.5, 1.5);  // never 0: a dropped value is told apart
    op.forward(x.view(), y.view(), rt::StepInfo{true, 9, 4});
    int dropped = 0;
    for (int64_t s = 0; s < n; ++s)
        for (int64_t ch = 0; ch < c; ++ch) {
            const bool kept = y[(s * hw) * c + ch] != 0;
            dropped += !kept;
            for (int64_t p = 0; p < hw; ++p) {
                const int64_t i = (s * hw + p) * c + ch;
                CHECK(y[i] == Approx(kept ? x[i] * 2 : 0.0));  // 1 / (1 - 0.5)
            }
        }
    CHECK(dropped > n * c / 4);  // about half of 192 channels
    CHECK(dropped < n * c * 3 / 4);
    // The backward pass applies the same mask (the same step), and another step draws another.
    rt::Tensor dx({n, 4, 5, c});
    rt::View dxv = dx.view();
    op.backward(x.view(), y.view(), x.view(), &dxv, false, rt::StepInfo{true, 9, 4});
    for (int64_t i = 0; i < x.size(); ++i) CHECK(dx[i] == y[i]);
    op.forward(x.view(), y2.view(), rt::StepInfo{true, 9, 5});
    int same = 0;
    for (int64_t i = 0; i < x.size(); i += hw * c / hw) same += (y[i] == 0) == (y2[i] == 0);
    CHECK(same < x.size() / c);
    // Evaluation and prediction: the input unchanged.
    op.forward(x.view(), y.view(), rt::StepInfo{false, 9, 4});
    for (int64_t i = 0; i < x.size(); ++i) CHECK(y[i] == x[i]);
}

TEST_CASE("the new conv kernels are among those `cnnc build` compiles, keyed so that old keys stay", "[layers][conv][kernels]") {
    std::vector<std::string> keys = training_kernel_keys(
        "model t {\n input(6, 6, 4)\n Conv2D(4, 1)\n DepthwiseConv2D(3, padding = same)\n SpatialDropout2D(0.1)\n"
        " Conv2DTranspose(2, 3, strides = 2, padding = same)\n}\n");
    using Catch::VectorContains;
    CHECK_THAT(keys, VectorContains(std::string("conv_fwd(ci=4,w=6,h=6,co=4,ow=6,oh=6,kw=1,kh=1,sx=1,sy=1,dx=1,dy=1,pl=0,pt=0,bias=1,act=linear)")));
    CHECK_THAT(keys, VectorContains(std::string(
                         "conv_fwd(ci=4,w=6,h=6,co=4,ow=6,oh=6,kw=3,kh=3,sx=1,sy=1,dx=1,dy=1,pl=1,pt=1,bias=1,act=linear,groups=4)")));
    CHECK_THAT(keys, VectorContains(std::string("dropout(rate=0.1,c=4,positions=36)")));
    // The transposed layer: its adjoint convolution maps its 12x12x2 output to its 6x6x4 input.
    CHECK_THAT(keys, VectorContains(std::string(
                         "conv_t_fwd(ci=2,w=12,h=12,co=4,ow=6,oh=6,kw=3,kh=3,sx=2,sy=2,dx=1,dy=1,pl=0,pt=0,bias=1,act=linear)")));
    for (const auto& k : keys) CHECK(engine::KernelSpec::parse(k).key() == k);
}

TEST_CASE("cnnc build: an executable with every new conv layer trains to cnnc run's losses", "[build][cli][conv]") {
    TempDir dir;
    fs::path d = dir.path();
    write_bars_problem(d);
    std::string model = kModel;
    const std::string plain = "    Conv2D(8, 3, activation = relu)\n    MaxPooling2D(2)\n";
    REQUIRE(model.find(plain) != std::string::npos);
    model.replace(model.find(plain), plain.size(),
                  "    Conv2D(8, 3, padding = same)\n"
                  "    DepthwiseConv2D(3, padding = same, depth_multiplier = 2, activation = tanh)\n"
                  "    SpatialDropout2D(0.2)\n"
                  "    SeparableConv2D(8, 3, activation = relu)\n"
                  "    Conv2DTranspose(4, 3, strides = 2, padding = same)\n"
                  "    Conv2D(8, 3, strides = 2, groups = 4, activation = tanh)\n");
    std::ofstream(d / "bars.cnn") << model;
    const std::string env = "CNNC_CACHE_DIR='" + (d / "cache").string() + "'";
    CommandResult b = run_cnnc("build bars.cnn --target host -o bars_exe", d.string(), env);
    INFO(b.output);
    REQUIRE(b.status == 0);
    CommandResult t1 = run_shell("cd '" + d.string() + "' && ./bars_exe train --seed 3 --output-dir exe_out");
    INFO(t1.output);
    REQUIRE(t1.status == 0);
    CommandResult t2 = run_cnnc("run bars.cnn --seed 3 --output-dir run_out", d.string(), env);
    INFO(t2.output);
    REQUIRE(t2.status == 0);
    check_close(losses(d / "exe_out" / "bar_net_history.csv"), losses(d / "run_out" / "bar_net_history.csv"), 1e-6);
    CHECK(metric_on_line(t1.output, "bar_net on bars.test: ", "accuracy") >= 0.9);
}

TEST_CASE("DepthwiseConv2D's kernel (Keras 3 names it 'kernel') takes depthwise_regularizer's penalty", "[layers][conv]") {
    Built b = build("model t { input(5, 5, 4) DepthwiseConv2D(3, depthwise_regularizer = l2(0.25), bias_regularizer = l1(0.5)) }");
    const std::vector<rt::Param>& p = b.net->stages().at(0).op->params;
    REQUIRE(p.size() == 2);
    CHECK(p[0].name.find("/kernel") != std::string::npos);
    CHECK(p[0].l2 == 0.25);
    CHECK(p[0].l1 == 0);
    CHECK(p[1].l1 == 0.5);
}
