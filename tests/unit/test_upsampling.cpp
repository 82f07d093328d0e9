// UpSampling2D against Keras' rule written out by hand (nearest: each pixel repeated size_h x
// size_w times, the gradient summed over each block; bilinear: Keras 3's resize with half-pixel
// centres, as tf.image.resize and torch's interpolate(align_corners = False) compute it), its kernels among those `cnnc build` compiles, and
// its summary row. The finite-difference harness and the conformance test cover its worked
// examples (layers/reshaping/LayerUpSampling.cpp); its errors are tests/errors/fail_upsampling_*.
#include <algorithm>
#include <cmath>

#include "EngineHelpers.h"
#include "summary/Summary.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

// One axis of Keras' bilinear resize by an integer factor: output o reads source position
// (o + 0.5) / scale - 0.5, clamped to [0, n - 1] by reading the edge pixel.
struct Lerp {
    int lo, hi;
    double w;  // the weight of hi
};
Lerp axis(int o, int n, int scale) {
    double src = std::max((o + 0.5) / scale - 0.5, 0.0);
    int lo = std::min(static_cast<int>(std::floor(src)), n - 1);
    return {lo, std::min(lo + 1, n - 1), src - lo};
}

}  // namespace

TEST_CASE("UpSampling2D repeats each pixel, and its gradient sums each block", "[layers][upsampling]") {
    Built b = build("model t {\n input(2, 2, 1)\n UpSampling2D((2, 3))\n}\n");
    rt::Op& op = *b.net->stages().at(0).op;
    rt::Tensor x({1, 2, 2, 1}), y({1, 4, 6, 1}), dy({1, 4, 6, 1}), dx({1, 2, 2, 1});
    for (int i = 0; i < 4; ++i) x[i] = static_cast<float>(i + 1);  // [[1, 2], [3, 4]]
    rt::StepInfo s{false, 1, 0};
    op.forward(x.view(), y.view(), s);
    const float want[24] = {1, 1, 1, 2, 2, 2,
                            1, 1, 1, 2, 2, 2,
                            3, 3, 3, 4, 4, 4,
                            3, 3, 3, 4, 4, 4};
    for (int i = 0; i < 24; ++i) {
        INFO(i);
        CHECK(y[i] == want[i]);
    }
    // dy = 1..24 row by row: the top-left 2x3 block is 1+2+3 + 7+8+9 = 30, the top-right
    // 4+5+6 + 10+11+12 = 48, the bottom-left 13+14+15 + 19+20+21 = 102, the bottom-right 120.
    for (int i = 0; i < 24; ++i) dy[i] = static_cast<float>(i + 1);
    op.prepare_backward(true);
    rt::View dxv = dx.view();
    op.backward(x.view(), y.view(), dy.view(), &dxv, false, s);
    CHECK(dx[0] == 30);
    CHECK(dx[1] == 48);
    CHECK(dx[2] == 102);
    CHECK(dx[3] == 120);
}

TEST_CASE("UpSampling2D on several channels keeps each channel apart", "[layers][upsampling]") {
    Built b = build("model t {\n input(1, 2, 3)\n UpSampling2D(2)\n}\n");
    rt::Op& op = *b.net->stages().at(0).op;
    rt::Tensor x({1, 1, 2, 3}), y({1, 2, 4, 3});
    for (int i = 0; i < 6; ++i) x[i] = static_cast<float>(10 * (i / 3) + i % 3);  // pixel p, channel c: 10p + c
    op.forward(x.view(), y.view(), rt::StepInfo{false, 1, 0});
    for (int row = 0; row < 2; ++row)
        for (int col = 0; col < 4; ++col)
            for (int ch = 0; ch < 3; ++ch) {
                INFO(row << " " << col << " " << ch);
                CHECK(y[(row * 4 + col) * 3 + ch] == static_cast<float>(10 * (col / 2) + ch));
            }
}

TEST_CASE("the upsample kernels are among those `cnnc build` compiles into an executable", "[layers][upsampling][kernels]") {
    // A layer before the upsampling makes its input gradient needed.
    std::vector<std::string> keys = training_kernel_keys("model t {\n input(3, 4, 2)\n Conv2D(2, 1)\n UpSampling2D((2, 3))\n}\n");
    using Catch::VectorContains;
    CHECK_THAT(keys, VectorContains(std::string("upsample_fwd(c=2,w=4,h=3,sw=3,sh=2,bilinear=0)")));
    CHECK_THAT(keys, VectorContains(std::string("upsample_bwd(c=2,w=4,h=3,sw=3,sh=2,bilinear=0)")));
}

TEST_CASE("UpSampling2D in a summary: Keras' name, the shape times size, no parameters", "[layers][upsampling][summary]") {
    auto c = compile("model t {\n input(7, 7, 16)\n UpSampling2D()\n UpSampling2D((1, 3), interpolation = \"nearest\")\n}\n");
    require_ok(*c);
    const Model& m = c->program.models.at(0);
    CHECK(m.layers[0].name == "up_sampling2d");
    CHECK(m.layers[0].out == Shape{14, 14, 16});
    CHECK(m.layers[1].name == "up_sampling2d_1");
    CHECK(m.layers[1].out == Shape{14, 42, 16});
    CHECK(m.param_count() == 0);
    CHECK_THAT(render_summary(m), Catch::Contains("│ up_sampling2d (UpSampling2D)         │ (None, 14, 14, 16)          │               0 │"));
}

TEST_CASE("bilinear UpSampling2D: Keras' half-pixel resize, and its gradient the same weights handed back", "[layers][upsampling]") {
    // By hand first: a row [1, 2] doubled reads positions -0.25 (clamped to 0), 0.25, 0.75, 1.25
    // (its right neighbour clamped to 1): 1, 1.25, 1.75, 2.
    Built row = build("model t {\n input(1, 2, 1)\n UpSampling2D((1, 2), interpolation = bilinear)\n}\n");
    rt::Tensor x1({1, 1, 2, 1}), y1({1, 1, 4, 1});
    x1[0] = 1, x1[1] = 2;
    rt::StepInfo s{false, 1, 0};
    row.net->stages().at(0).op->forward(x1.view(), y1.view(), s);
    CHECK(y1[0] == 1.f);
    CHECK(y1[1] == 1.25f);
    CHECK(y1[2] == 1.75f);
    CHECK(y1[3] == 2.f);

    // Then the rule written out, on a 3x4 image of 2 channels scaled by (2, 3), forward and backward.
    const int h = 3, w = 4, ch = 2, sh = 2, sw = 3, oh = h * sh, ow = w * sw;
    Built b = build("model t {\n input(3, 4, 2)\n UpSampling2D((2, 3), interpolation = bilinear)\n}\n");
    rt::Op& op = *b.net->stages().at(0).op;
    rt::Tensor x({1, h, w, ch}), y({1, oh, ow, ch}), dy({1, oh, ow, ch}), dx({1, h, w, ch});
    rt::Rng rng(5);
    fill_uniform(x.data(), x.size(), rng, -1, 1);
    fill_uniform(dy.data(), dy.size(), rng, -1, 1);
    op.forward(x.view(), y.view(), s);
    op.prepare_backward(true);
    rt::View dxv = dx.view();
    op.backward(x.view(), y.view(), dy.view(), &dxv, false, s);
    std::vector<double> want_dx(static_cast<size_t>(x.size()), 0.0);
    auto px = [&](int r, int c, int k) { return (r * w + c) * ch + k; };
    for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox)
            for (int k = 0; k < ch; ++k) {
                Lerp ly = axis(oy, h, sh), lx = axis(ox, w, sw);
                const int rows[2] = {ly.lo, ly.hi}, cols[2] = {lx.lo, lx.hi};
                const double wy[2] = {1 - ly.w, ly.w}, wx[2] = {1 - lx.w, lx.w};
                double want = 0;
                const float g = dy[(oy * ow + ox) * ch + k];
                for (int i = 0; i < 2; ++i)
                    for (int j = 0; j < 2; ++j) {
                        want += wy[i] * wx[j] * x[px(rows[i], cols[j], k)];
                        want_dx[static_cast<size_t>(px(rows[i], cols[j], k))] += wy[i] * wx[j] * g;
                    }
                INFO(oy << " " << ox << " " << k);
                CHECK(y[(oy * ow + ox) * ch + k] == Approx(want).epsilon(1e-5).margin(1e-6));
            }
    for (int64_t i = 0; i < dx.size(); ++i) {
        INFO(i);
        CHECK(dx[i] == Approx(want_dx[static_cast<size_t>(i)]).epsilon(1e-5).margin(1e-6));
    }
}
