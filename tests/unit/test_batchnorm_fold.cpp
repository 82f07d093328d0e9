// BatchNormalization folded, for inference, into the Conv2D or Dense layer before it
// (compiler/src/lower/Fold.h): the folded network's outputs equal the unfolded one's to 1e-5
// relative, and a layer whose output something else also reads, or that has its own activation,
// keeps its BatchNormalization.
#include <cmath>

#include "EngineHelpers.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

// The same network twice (same seed), with random gamma, beta and moving statistics: `folded`
// prepared for inference, `plain` for training (which never folds) and run in inference mode.
struct Pair {
    Built folded, plain;
};

Pair pair_of(const std::string& code) {
    Pair p{build(code, 4), build(code, 4)};
    rt::Rng rng(8);
    std::vector<rt::Param*> a = p.folded.net->params(), b = p.plain.net->params();
    for (size_t i = 0; i < a.size(); ++i) {
        const bool variance = a[i]->name.find("variance") != std::string::npos;
        fill_uniform(a[i]->value.data(), a[i]->value.size(), rng, variance ? 0.2 : -1, variance ? 2 : 1);
        b[i]->value = a[i]->value;
    }
    return p;
}

// max |a - b| / max |b| over the batch's outputs.
double relative_difference(const rt::View& a, const rt::View& b) {
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < b.size(); ++i) diff = std::max(diff, double(std::fabs(a[i] - b[i]))), scale = std::max(scale, double(std::fabs(b[i])));
    return diff / scale;
}

}  // namespace

TEST_CASE("BatchNormalization folded into Conv2D and Dense gives the unfolded outputs to 1e-5 relative", "[normalization][fold]") {
    const char* code = R"(model m {
        input(9, 9, 3)
        Conv2D(16, 3, padding = same, use_bias = false)
        BatchNormalization()
        Activation(relu)
        Conv2D(8, 3, strides = 2)
        BatchNormalization(epsilon = 0.01, center = false)
        Flatten()
        Dense(5)
        BatchNormalization(scale = false)
    })";
    Pair p = pair_of(code);
    const int64_t n = 6;
    p.folded.net->prepare(n, false);
    p.plain.net->prepare(n, true);
    const auto& st = p.folded.net->stages();
    REQUIRE(st.size() == 8);
    for (size_t k : {1, 4, 7}) CHECK(st[k].op->absorbed());
    rt::Tensor x({n, 9, 9, 3});
    rt::Rng rng(2);
    fill_uniform(x.data(), x.size(), rng, -1, 1);
    rt::View a = p.folded.net->forward(x.view(), {});
    rt::View b = p.plain.net->forward(x.view(), {});
    REQUIRE(a.size() == n * 5);
    CHECK(relative_difference(a, b) <= 1e-5);
    // Folding reads the current weights: a changed moving mean shows in the next forward.
    p.folded.net->params().at(3)->value[0] += 0.5f;
    p.plain.net->params().at(3)->value[0] += 0.5f;
    a = p.folded.net->forward(x.view(), {});
    b = p.plain.net->forward(x.view(), {});
    CHECK(relative_difference(a, b) <= 1e-5);
}

TEST_CASE("a layer with its own activation, or whose output another layer also reads, keeps its BatchNormalization", "[normalization][fold]") {
    Pair act = pair_of("model m { input(6, 6, 2) Conv2D(4, 3, activation = relu) BatchNormalization() }");
    act.folded.net->prepare(2, false);
    CHECK_FALSE(act.folded.net->stages().back().op->absorbed());
    Pair shared = pair_of("model m { input(6, 6, 4) Conv2D(4, 3, padding = same) residual { BatchNormalization() } }");
    shared.folded.net->prepare(2, false);
    for (const auto& s : shared.folded.net->stages()) CHECK_FALSE(s.op->absorbed());
    rt::Tensor x({2, 6, 6, 4});
    rt::Rng rng(5);
    fill_uniform(x.data(), x.size(), rng, -1, 1);
    shared.plain.net->prepare(2, true);
    CHECK(relative_difference(shared.folded.net->forward(x.view(), {}), shared.plain.net->forward(x.view(), {})) <= 1e-6);
}

// A depthwise kernel (kh, kw, C, depth_multiplier) ends in its multiplier, not its C·multiplier
// output channels: the fold must scale output channel c·multiplier + m, which is what the
// kernel's last two axes together index.
TEST_CASE("BatchNormalization folded into DepthwiseConv2D gives the unfolded outputs to 1e-5 relative", "[normalization][fold]") {
    for (int multiplier : {1, 2}) {
        DYNAMIC_SECTION("depth_multiplier " << multiplier) {
            Pair p = pair_of("model m { input(7, 7, 3) DepthwiseConv2D(3, padding = same, depth_multiplier = " +
                             std::to_string(multiplier) + ") BatchNormalization() }");
            const int64_t n = 2;
            p.folded.net->prepare(n, false);
            p.plain.net->prepare(n, true);
            REQUIRE(p.folded.net->stages().at(1).op->absorbed());
            rt::Tensor x({n, 7, 7, 3});
            rt::Rng rng(3);
            fill_uniform(x.data(), x.size(), rng, -1, 1);
            rt::View a = p.folded.net->forward(x.view(), {});
            rt::View b = p.plain.net->forward(x.view(), {});
            REQUIRE(a.size() == n * 7 * 7 * 3 * multiplier);
            CHECK(relative_difference(a, b) <= 1e-5);
        }
    }
}
