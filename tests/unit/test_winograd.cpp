// Winograd's F(2x2, 3x3) (layers/conv/KernelsWinograd.cpp, the s_order=2 knob of conv_fwd and
// conv_bwd_x): the forward's outputs and the input gradient within float rounding of the direct
// kernels', and the forward's pooling index the same, over odd sizes (a pooling drops the last row
// and column; without one, the last tiles are cut), 'same' padding, no bias, activations other
// than relu, a producer's relu applied by the input gradient, channels that are not a multiple of
// 16 and a batch that no grain divides; the tuner offers it only where it fits.
#include <algorithm>
#include <cmath>

#include "Helpers.h"
#include "kernels/Jit.h"
#include "kernels/Tuner.h"
#include "kernels/Tuning.h"
#include "layers/conv/Config.h"

using namespace cnnc;

namespace {

engine::ConvCfg pooled(engine::ConvCfg c) {
    c.pool_w = 2, c.pool_h = 2;
    return c;
}

constexpr int kWinograd = engine::kWinogradOrder;

// `spec` (conv_fwd or conv_bwd_x) with Winograd against the direct kernel on the tuner's buffers:
// within float rounding, every element written, something not zero compared; the forward's
// pooling index the same. The pooling index a pooled input gradient reads is made valid (-1 .. 3).
void check_against_direct(engine::KernelCache& jit, const engine::KernelSpec& spec, int batch) {
    INFO(spec.key());
    auto p = engine::tune_problem(spec, engine::TuneRequest{batch, engine::TuneLevel::Quick, {}});
    REQUIRE(p);
    engine::Knobs wino;
    wino.order = kWinograd;
    CHECK(std::find(p->candidates.begin(), p->candidates.end(), wino) != p->candidates.end());  // the tuner measures it
    const bool backward = spec.name() == "conv_bwd_x";
    std::vector<engine::Buf> in;
    uint32_t seed = 5;
    for (const auto& shape : p->inputs) in.emplace_back(shape), engine::fill_for_timing(in.back(), seed++);  // values in [-1, 1)
    if (backward && spec.has("pool_w")) {  // the last input is the pooling's index
        uint32_t h = 9;
        in.back().for_each_value([&](float& v) {
            h = h * 1664525u + 1013904223u;
            v = static_cast<float>((h >> 16) % 5) - 1.f;
        });
    }
    auto run = [&](const engine::Knobs& kn) {
        std::vector<engine::Buf> out;
        for (const auto& shape : p->outputs) out.emplace_back(shape), out.back().fill(NAN);
        jit.get(kn.apply(spec))->run(in, out, p->ints);
        return out;
    };
    auto direct = run(engine::Knobs{}), got = run(wino);
    const bool pooled_forward = !backward && spec.has("pool_w");
    REQUIRE(got.size() == (pooled_forward ? 2u : 1u));
    double worst = 0;
    int64_t index_differs = 0, nonzero = 0;
    const float* g = got[0].data();
    const float* d = direct[0].data();
    for (size_t i = 0; i < got[0].number_of_elements(); ++i) {
        REQUIRE(std::isfinite(g[i]));  // every element written
        worst = std::max(worst, std::abs(double(g[i]) - double(d[i])) / (1.0 + std::abs(double(d[i]))));
        nonzero += d[i] != 0;
        if (pooled_forward) index_differs += got[1].data()[i] != direct[1].data()[i];
    }
    INFO("worst relative difference " << worst);
    // Sums of up to 9 x 48 products of values in [-1, 1]: float rounding is ~1e-6 of them.
    CHECK(worst < 2e-5);
    CHECK(worst > 0);  // a different summation, not the direct kernel under another name
    CHECK(nonzero > static_cast<int64_t>(got[0].number_of_elements() / 4));
    CHECK(index_differs == 0);
}

}  // namespace

TEST_CASE("Winograd's forward and input gradient give the direct kernels' values and pooling index", "[winograd][conv]") {
    engine::JitKernels jit;
    const int batch = 3;
    struct Case {
        const char* what;
        engine::ConvCfg c;
    };
    const Case cases[] = {
        {"valid, odd sizes, relu", pooled({16, 13, 11, 32, 11, 9, 3, 3, 1, 1, 1, 1, 0, 0, true, "relu"})},
        {"same padding, no bias, tanh", pooled({8, 10, 9, 16, 10, 9, 3, 3, 1, 1, 1, 1, 1, 1, false, "tanh"})},
        {"24 channels in, 48 out, linear", pooled({24, 12, 12, 48, 10, 10, 3, 3, 1, 1, 1, 1, 0, 0, true, "linear"})},
        // No pooling: tiles over the output, the last row and column of tiles cut.
        {"unpooled, valid, odd sizes, relu", {16, 13, 10, 32, 11, 8, 3, 3, 1, 1, 1, 1, 0, 0, true, "relu"}},
        {"unpooled, same padding, odd sizes, no bias, elu", {8, 9, 7, 16, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1, false, "elu"}},
        {"unpooled, one row of 3 columns", {16, 5, 3, 16, 3, 1, 3, 3, 1, 1, 1, 1, 0, 0, true, "linear"}},
        // Vectors of 4 lanes (12 channels in) and fewer outputs than a vector (4), padding on one
        // side only ('same' is symmetric; a left/top pad of 1 with an odd width is not).
        {"12 channels in, 4 out, pooled", pooled({12, 11, 9, 4, 9, 7, 3, 3, 1, 1, 1, 1, 0, 0, true, "relu"})},
        {"12 channels in, 4 out, padded on one side", {12, 9, 7, 4, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, true, "relu"}},
    };
    for (const Case& k : cases) {
        DYNAMIC_SECTION(k.what) {
            REQUIRE(engine::winograd_fits(k.c));
            check_against_direct(jit, k.c.spec("conv_fwd"), batch);
            check_against_direct(jit, k.c.spec("conv_bwd_x"), batch);
            engine::ConvCfg paired = k.c;  // the input gradient that applies its producer's relu
            paired.input_act = "relu";
            check_against_direct(jit, paired.spec("conv_bwd_x"), batch);
        }
    }
}

TEST_CASE("the tuner offers Winograd only to 3x3, stride-1 convolutions with 8 or more input channels, unpooled or 2x2-pooled", "[winograd][tuning]") {
    auto offered = [](const engine::ConvCfg& c) {
        auto p = engine::tune_problem(c.spec("conv_fwd"), engine::TuneRequest{4, engine::TuneLevel::Quick, {}});
        REQUIRE(p);
        engine::Knobs wino;
        wino.order = kWinograd;
        return std::find(p->candidates.begin(), p->candidates.end(), wino) != p->candidates.end();
    };
    const engine::ConvCfg base = pooled({16, 13, 11, 32, 11, 9, 3, 3, 1, 1, 1, 1, 0, 0, true, "relu"});
    CHECK(offered(base));
    engine::ConvCfg unpooled = base;
    unpooled.pool_w = unpooled.pool_h = 0;
    CHECK(offered(unpooled));
    engine::ConvCfg grouped = unpooled;  // depthwise-like: its own kernels
    grouped.groups = 4;
    CHECK_FALSE(offered(grouped));
    engine::ConvCfg softmax = unpooled;
    softmax.act = "softmax";
    CHECK_FALSE(offered(softmax));
    engine::ConvCfg first = base;  // a first convolution's 3 channels
    first.ci = 3;
    CHECK_FALSE(offered(first));
    engine::ConvCfg strided = pooled({16, 13, 11, 32, 6, 5, 3, 3, 2, 2, 1, 1, 0, 0, true, "relu"});
    CHECK_FALSE(offered(strided));
    engine::ConvCfg five = pooled({16, 13, 11, 32, 9, 7, 5, 5, 1, 1, 1, 1, 0, 0, true, "relu"});
    CHECK_FALSE(offered(five));
    engine::ConvCfg pool3 = base;
    pool3.pool_w = 3, pool3.pool_h = 3;
    CHECK_FALSE(offered(pool3));
    engine::ConvCfg dilated = pooled({16, 13, 11, 32, 9, 7, 3, 3, 1, 1, 2, 2, 0, 0, true, "relu"});
    CHECK_FALSE(offered(dilated));
    engine::ConvCfg conv1d = {16, 20, 1, 32, 18, 1, 3, 1, 1, 1, 1, 1, 0, 0, true, "relu"};  // height 1
    CHECK_FALSE(offered(conv1d));
    // A knob asking for it where it does not fit gives the direct kernel: the same values exactly.
    engine::JitKernels jit;
    for (const char* builder : {"conv_fwd", "conv_bwd_x"}) {
        const engine::KernelSpec spec = strided.spec(builder);
        INFO(spec.key());
        auto p = engine::tune_problem(spec, engine::TuneRequest{2, engine::TuneLevel::Quick, {}});
        REQUIRE(p);
        std::vector<engine::Buf> in;
        uint32_t seed = 3;
        for (const auto& shape : p->inputs) in.emplace_back(shape), engine::fill_for_timing(in.back(), seed++);
        auto run = [&](const engine::Knobs& kn) {
            std::vector<engine::Buf> out;
            for (const auto& shape : p->outputs) out.emplace_back(shape), out.back().fill(NAN);
            jit.get(kn.apply(spec))->run(in, out, p->ints);
            return out;
        };
        engine::Knobs wino;
        wino.order = kWinograd;
        auto direct = run(engine::Knobs{}), asked = run(wino);
        for (size_t o = 0; o < direct.size(); ++o)
            for (size_t i = 0; i < direct[o].number_of_elements(); ++i) REQUIRE(asked[o].data()[i] == direct[o].data()[i]);
    }
}
