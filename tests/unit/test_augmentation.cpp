// Augmentation layers do what their names say, in training only: a flip flips (half the images),
// a rotation of 0.25 turns an image a quarter, a zoom scales about the centre; the same seed and
// step give the same transform, another step another.
#include "EngineHelpers.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {
constexpr int kN = 8;  // image side

rt::Tensor pattern(int64_t batch) {
    rt::Tensor x({batch, kN, kN, 1});
    for (int64_t b = 0; b < batch; ++b)
        for (int y = 0; y < kN; ++y)
            for (int xx = 0; xx < kN; ++xx) x[(b * kN + y) * kN + xx] = static_cast<float>(y * 10 + xx);  // asymmetric
    return x;
}

float at(const rt::View& v, int64_t b, int y, int x) { return v[(b * kN + y) * kN + x]; }

rt::View forward(Built& b, const rt::Tensor& x, bool training, int64_t step = 1) {
    b.net->prepare(x.shape()[0], false);
    return b.net->forward(x.view(), rt::StepInfo{training, 7, step});
}
}  // namespace

TEST_CASE("RandomFlip(horizontal) mirrors about half of the images left to right, and nothing else", "[augmentation]") {
    Built b = build("model m { input(8, 8, 1) RandomFlip(horizontal) }");
    rt::Tensor x = pattern(64);
    rt::View y = forward(b, x, true);
    int flipped = 0;
    for (int64_t i = 0; i < 64; ++i) {
        bool same = true, mirrored = true;
        for (int r = 0; r < kN; ++r)
            for (int c = 0; c < kN; ++c) {
                same &= at(y, i, r, c) == at(x.view(), i, r, c);
                mirrored &= at(y, i, r, c) == at(x.view(), i, r, kN - 1 - c);
            }
        CHECK((same || mirrored));
        flipped += mirrored;
    }
    CHECK(flipped > 16);
    CHECK(flipped < 48);
    rt::View e = forward(b, x, false);  // evaluation: the identity
    for (int64_t i = 0; i < x.size(); ++i) REQUIRE(e[i] == x[i]);
}

TEST_CASE("RandomRotation((0.25, 0.25)) turns every image a quarter", "[augmentation]") {
    Built b = build("model m { input(8, 8, 1) RandomRotation((0.25, 0.25), interpolation = nearest) }");
    rt::Tensor x = pattern(2);
    rt::View y = forward(b, x, true);
    for (int64_t i = 0; i < 2; ++i)
        for (int r = 0; r < kN; ++r)
            for (int c = 0; c < kN; ++c) CHECK(at(y, i, r, c) == at(x.view(), i, c, kN - 1 - r));
}

TEST_CASE("RandomZoom((-0.5, -0.5)) zooms in twice about the centre", "[augmentation]") {
    Built b = build("model m { input(8, 8, 1) RandomZoom((-0.5, -0.5)) }");
    rt::Tensor x = pattern(1);
    rt::View y = forward(b, x, true);
    // Output (r, c) samples input (0.5 r + 1.75, 0.5 c + 1.75), bilinearly.
    for (int r = 0; r < kN; ++r)
        for (int c = 0; c < kN; ++c) CHECK(at(y, 0, r, c) == Approx(10 * (0.5 * r + 1.75) + (0.5 * c + 1.75)).margin(1e-3));
}

TEST_CASE("augmentation is repeatable for a step and new for the next", "[augmentation]") {
    Built b = build("model m { input(8, 8, 1) RandomRotation(0.1) RandomZoom(0.2) }");
    rt::Tensor x = pattern(4);
    std::vector<float> first, again, next;
    rt::View y = forward(b, x, true, 3);
    first.assign(y.data, y.data + y.size());
    y = forward(b, x, true, 3);
    again.assign(y.data, y.data + y.size());
    y = forward(b, x, true, 4);
    next.assign(y.data, y.data + y.size());
    CHECK(first == again);
    CHECK(first != next);
}
