// The image-folder source on real JPEG and PNG files the test writes (stb_image_write), and a
// cats-vs-dogs style convnet with augmentation learning a generated two-class folder.
#include <stb/stb_image_write.h>

#include <filesystem>
#include <sstream>
#include <fstream>

#include "EngineHelpers.h"
#include "Error.h"
#include "TempDir.h"
#include "TestData.h"
#include "data/ImageFolder.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {
// Class 0 ("cats"): a bright disc on a dark noisy background; class 1 ("dogs"): bright stripes.
void write_shape(const fs::path& p, int cls, int side, rt::Rng& rng, bool jpeg) {
    std::vector<unsigned char> px(static_cast<size_t>(side * side * 3));
    double cx = rng.uniform(side * 0.3, side * 0.7), cy = rng.uniform(side * 0.3, side * 0.7), r = side * rng.uniform(0.15, 0.3);
    int period = 4 + static_cast<int>(rng.below(4));
    for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x) {
            bool on = cls == 0 ? (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r : (x / period) % 2 == 0;
            for (int k = 0; k < 3; ++k)
                px[static_cast<size_t>((y * side + x) * 3 + k)] =
                    static_cast<unsigned char>(on ? 180 + rng.below(70) : rng.below(60));
        }
    fs::create_directories(p.parent_path());
    if (jpeg) stbi_write_jpg(p.string().c_str(), side, side, 3, px.data(), 90);
    else stbi_write_png(p.string().c_str(), side, side, 3, px.data(), side * 3);
}

void make_folder(const fs::path& dir, int per_class, int side, uint64_t seed) {
    rt::Rng rng(seed);
    for (int i = 0; i < per_class; ++i) {
        write_shape(dir / "cats" / ("cat." + std::to_string(i) + ".jpg"), 0, side, rng, true);
        write_shape(dir / "dogs" / ("dog." + std::to_string(i) + (i % 5 == 0 ? ".png" : ".jpg")), 1, side, rng, i % 5 != 0);
    }
}
}  // namespace

TEST_CASE("image folders: sorted class names give the labels, PNG pixels and bilinear resizing are exact", "[data][images]") {
    TempDir dir;
    fs::path d(dir.path());
    // A 2x2 PNG resized to 4x4 with TF's half-pixel bilinear rule: a row 0, 100 becomes 0, 25, 75, 100.
    unsigned char px[2 * 2 * 3] = {0, 0, 0, 100, 100, 100, 0, 0, 0, 100, 100, 100};
    fs::create_directories(d / "b_second");
    fs::create_directories(d / "a_first");
    stbi_write_png((d / "b_second" / "img.png").string().c_str(), 2, 2, 3, px, 6);
    stbi_write_png((d / "a_first" / "img.png").string().c_str(), 2, 2, 3, px, 6);
    rt::ImageFolderOptions o;
    o.height = o.width = 4;
    std::vector<std::string> classes;
    auto rows = rt::load_image_folder(d.string(), o, &classes);
    CHECK(classes == std::vector<std::string>{"a_first", "b_second"});
    CHECK(rows.labels == std::vector<int32_t>{0, 1});
    REQUIRE(rows.x.shape() == rt::Dims{2, 4, 4, 3});
    const float want[4] = {0, 25, 75, 100};
    for (int x = 0; x < 4; ++x) CHECK(rows.x[x * 3] == Approx(want[x]));
    o.channels = 1;
    CHECK(rt::load_image_folder(d.string(), o).x.shape() == rt::Dims{2, 4, 4, 1});
}

TEST_CASE("image folders: a corrupt file and an empty folder are errors that name them", "[data][images]") {
    TempDir dir;
    fs::path d(dir.path());
    fs::create_directories(d / "cats");
    std::ofstream(d / "cats" / "broken.jpg") << "this is not a JPEG";
    rt::ImageFolderOptions o;
    try {
        rt::load_image_folder(d.string(), o);
        FAIL("no error");
    } catch (const rt::UserError& e) {
        CHECK_THAT(e.what(), Catch::Contains("broken.jpg: cannot decode image"));
    }
    o.skip_corrupt = true;  // ... or left out when the user asks
    unsigned char px[3] = {1, 2, 3};
    stbi_write_png((d / "cats" / "good.png").string().c_str(), 1, 1, 3, px, 3);
    std::vector<std::string> skipped;
    auto rows = rt::load_image_folder(d.string(), o, nullptr, &skipped);
    CHECK(rows.labels.size() == 1);
    REQUIRE(skipped.size() == 1);
    CHECK_THAT(skipped[0], Catch::EndsWith("broken.jpg"));
    o.skip_corrupt = false;
    fs::path empty = d / "empty";
    fs::create_directories(empty);
    try {
        rt::load_image_folder(empty.string(), o);
        FAIL("no error");
    } catch (const rt::UserError& e) {
        CHECK_THAT(e.what(), Catch::Contains("no class folders"));
    }
}

TEST_CASE("a cats-vs-dogs style convnet with augmentation learns a generated JPEG folder", "[run][images][augmentation]") {
    TempDir dir;
    fs::path d(dir.path());
    make_folder(d / "pets" / "train", 100, 48, 1);
    make_folder(d / "pets" / "validation", 30, 48, 2);
    std::ofstream(d / "pets.cnn") << R"(
dataset pets {
    train      = image_directory("pets/train", image_size = (40, 40), batch_size = 20)
    validation = image_directory("pets/validation", image_size = (40, 40), batch_size = 20)
    labels     = binary
}
augmentation flip_rotate_zoom {
    RandomFlip(horizontal)
    RandomRotation(0.1)
    RandomZoom(0.2)
}
model small_pets {
    input(40, 40, 3)
    flip_rotate_zoom
    Rescaling(1/255)
    Conv2D(8, 3, activation = relu)
    MaxPooling2D(2)
    Conv2D(16, 3, activation = relu)
    MaxPooling2D(2)
    Flatten()
    Dropout(0.25)
    Dense(1, activation = sigmoid)
}
train small_pets on pets.train {
    validation = pets.validation
    optimizer  = adam()
    loss       = binary_crossentropy
    metrics    = [accuracy]
    epochs     = 8
}
evaluate small_pets on pets.validation
)";
    auto r = run_cnnc("run pets.cnn --seed 2", d.string());
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("200 samples, batch 20"));
    CHECK(metric_on_line(r.output, "small_pets on pets.validation: ", "accuracy") >= 0.85);

    // cnnc predict with the saved weights: the images read as the training folder's were (40x40,
    // bilinear), the classes named by its folders, one sigmoid's two probabilities.
    std::string images;
    for (int i = 0; i < 5; ++i) images += " pets/validation/cats/cat." + std::to_string(i) + ".jpg pets/validation/dogs/dog." + std::to_string(i) + (i % 5 == 0 ? ".png" : ".jpg");
    auto p = run_cnnc("predict pets.cnn --weights small_pets.weights.h5" + images, d.string());
    INFO(p.output);
    REQUIRE(p.status == 0);
    int right = 0, lines = 0;
    std::istringstream in(p.output);
    for (std::string line; std::getline(in, line);) {
        ++lines;
        bool cat = line.find("/cats/") != std::string::npos;
        right += line.find(cat ? ": cats (" : ": dogs (") != std::string::npos;
        auto a = line.find("[cats: "), b = line.find(", dogs: ");
        REQUIRE(a != std::string::npos);
        REQUIRE(b != std::string::npos);
        CHECK(std::stod(line.substr(a + 7)) + std::stod(line.substr(b + 8)) == Approx(1).margin(2e-4));
    }
    CHECK(lines == 10);
    CHECK(right >= 8);
}
