// `cnnc data`: each member's samples, classes and counts, shapes and decode speed, corrupt images
// named; and idx's validation_split, fit(validation_split)'s rule (the last fraction, unshuffled),
// seen through the classes each subset holds.
#include <stb/stb_image_write.h>

#include <filesystem>
#include <fstream>

#include "Helpers.h"
#include "TempDir.h"
#include "TestData.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

TEST_CASE("cnnc data: idx's validation subset is the last int(0.3 n) samples in file order", "[data][split][cli]") {
    TempDir dir;
    fs::path d(dir.path());
    // Ten samples whose label is their position: a subset's classes are its sample indices.
    write_idx(d / "im.idx", d / "lb.idx", 10, 2, 2, [](int i, int, int) { return static_cast<unsigned char>(i); },
              [](int i) { return i; });
    std::ofstream(d / "digits.cnn") << R"(
dataset digits {
    train      = idx("im.idx", "lb.idx", validation_split = 0.3, subset = training)
    validation = idx("im.idx", "lb.idx", validation_split = 0.3, subset = validation)
    all        = idx("im.idx", "lb.idx")
}
)";
    auto r = run_cnnc("data digits.cnn", d.string());
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("digits.train: idx, 7 samples of shape (2, 2, 1)\n  classes: 0 1, 1 1, 2 1, 3 1, 4 1, 5 1, 6 1\n"));
    CHECK_THAT(r.output, Catch::Contains("digits.validation: idx, 3 samples of shape (2, 2, 1)\n  classes: 7 1, 8 1, 9 1\n"));
    CHECK_THAT(r.output, Catch::Contains("digits.all: idx, 10 samples"));
    auto one = run_cnnc("data digits.cnn --dataset nope", d.string());
    CHECK(one.status == 1);
    CHECK_THAT(one.output, Catch::Contains("no dataset named 'nope'"));
}

TEST_CASE("cnnc data: an image folder's classes and counts, shape and decode speed, a corrupt image named, exit 1", "[data][images][cli]") {
    TempDir dir;
    fs::path d(dir.path());
    unsigned char px[4 * 4 * 3] = {};
    for (int c = 0; c < 2; ++c)
        for (int i = 0; i < 3 + c; ++i) {
            fs::path p = d / "pets" / (c ? "dogs" : "cats") / (std::to_string(i) + ".png");
            fs::create_directories(p.parent_path());
            stbi_write_png(p.string().c_str(), 4, 4, 3, px, 12);
        }
    std::ofstream(d / "pets.cnn") << R"(
dataset pets {
    train = image_directory("pets", image_size = (8, 6))
    labels = binary
}
)";
    auto good = run_cnnc("data pets.cnn --dataset pets", d.string());
    INFO(good.output);
    CHECK(good.status == 0);
    CHECK_THAT(good.output, Catch::Contains("pets.train: image_directory, 7 samples of shape (8, 6, 3)\n  classes: 2: cats 3, dogs 4\n  decode: "));
    CHECK_THAT(good.output, Catch::Contains("images/s on 2 threads"));
    write_bytes((d / "pets" / "dogs" / "bad.jpg").string(), std::string("\xFF\xD8\xFF\xE0 not really a JPEG", 21));
    auto bad = run_cnnc("data pets.cnn", d.string());
    INFO(bad.output);
    CHECK(bad.status == 1);
    CHECK_THAT(bad.output, Catch::Contains("corrupt: " + (fs::path("pets") / "dogs" / "bad.jpg").string()));
    CHECK_THAT(bad.output, Catch::Contains("1 of 8 images do not decode"));
}
