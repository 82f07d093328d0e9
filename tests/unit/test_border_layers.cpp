// ZeroPadding2D and Cropping2D against Keras' rule written out (the image placed in a canvas of
// zeros, or a window cut from it), and their kernels among those `cnnc build` puts in an
// executable. Shapes, summaries and gradients are covered by the layer list's worked examples.
#include "EngineHelpers.h"
#include "summary/Summary.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

// (n, h, w, c) batch-first, as the runtime stores it.
float at(const rt::View& v, int64_t n, int64_t y, int64_t x, int64_t c) {
    return v.data[((n * v.shape[1] + y) * v.shape[2] + x) * v.shape[3] + c];
}

}  // namespace

TEST_CASE("ZeroPadding2D and Cropping2D move each image as Keras does", "[layers][border]") {
    Built b = build("model t {\n input(3, 4, 2)\n ZeroPadding2D(((1, 2), (0, 3)))\n Cropping2D(((2, 1), (1, 0)))\n}\n");
    const int64_t n = 2;
    rt::Tensor x({n, 3, 4, 2});
    rt::Rng rng(3);
    fill_uniform(x.data(), x.size(), rng, -1, 1);
    rt::StepInfo s{false, 1, 0};
    b.net->prepare(n, false);
    rt::View padded = b.net->forward(x.view(), s);  // the whole net: padding, then a crop that keeps a window of it
    REQUIRE(padded.shape == rt::Dims{n, 3, 6, 2});
    // The padded image is 6x7: rows 1-3 and columns 0-3 hold the input. The crop keeps rows 2-4
    // and columns 1-6 of it, so output (y, x) is padded (y + 2, x + 1), input (y + 1, x + 1).
    for (int64_t i = 0; i < n; ++i)
        for (int64_t y = 0; y < 3; ++y)
            for (int64_t xx = 0; xx < 6; ++xx)
                for (int64_t c = 0; c < 2; ++c) {
                    int64_t iy = y + 1, ix = xx + 1;
                    float want = iy < 3 && ix < 4 ? at(x.view(), i, iy, ix, c) : 0.f;
                    INFO(i << " " << y << " " << xx << " " << c);
                    CHECK(at(padded, i, y, xx, c) == want);
                }
}

TEST_CASE("the border kernels are among those `cnnc build` compiles into an executable", "[layers][border][kernels]") {
    // What `cnnc build` and `cnnc dump kernels` list: every kernel a training run asks for
    // (engine/KernelList.h). A layer before the padding makes its input gradient needed.
    std::vector<std::string> keys =
        training_kernel_keys("model t {\n input(3, 4, 2)\n Conv2D(2, 1)\n ZeroPadding2D(((1, 2), (0, 3)))\n Cropping2D(1)\n}\n");
    using Catch::VectorContains;
    CHECK_THAT(keys, VectorContains(std::string("border(c=2,w=4,h=3,ow=7,oh=6,left=0,top=1)")));   // padding
    CHECK_THAT(keys, VectorContains(std::string("border(c=2,w=7,h=6,ow=4,oh=3,left=0,top=-1)")));  // its gradient
    CHECK_THAT(keys, VectorContains(std::string("border(c=2,w=7,h=6,ow=5,oh=4,left=-1,top=-1)"))); // the crop
    CHECK_THAT(keys, VectorContains(std::string("border(c=2,w=5,h=4,ow=7,oh=6,left=1,top=1)")));   // its gradient
    for (const auto& k : keys) CHECK(engine::KernelSpec::parse(k).key() == k);  // an executable's table is keyed by these
}

TEST_CASE("ZeroPadding2D and Cropping2D in a summary: Keras' names and shapes, no parameters", "[layers][border][summary]") {
    auto c = compile("model t {\n input(28, 28, 1)\n ZeroPadding2D(2)\n Conv2D(4, 3)\n Cropping2D(((1, 0), (0, 1)))\n}\n");
    require_ok(*c);
    const Model& m = c->program.models.at(0);
    REQUIRE(m.layers.size() == 3);
    CHECK(m.layers[0].name == "zero_padding2d");
    CHECK(m.layers[0].out == Shape{32, 32, 1});
    CHECK(m.layers[0].param_count() == 0);
    CHECK(m.layers[2].name == "cropping2d");
    CHECK(m.layers[2].out == Shape{29, 29, 4});
    CHECK(m.layers[2].param_count() == 0);
    std::string s = render_summary(m);
    CHECK_THAT(s, Catch::Contains("zero_padding2d (ZeroPadding2D)"));
    CHECK_THAT(s, Catch::Contains("cropping2d (Cropping2D)"));
    CHECK_THAT(s, Catch::Contains(" Total params: 40 (160.00 B)\n"));
}
