// A dataset's class_names (issue 14): predict prints the names instead of class indices for data
// whose source has none (IDX here; an image folder's are its sub-folders' names).
#include "Helpers.h"
#include "TempDir.h"
#include "TestData.h"

using namespace cnnc;
using namespace cnnc::test;

TEST_CASE("predict prints the dataset's class_names for IDX data", "[cli][run]") {
    TempDir d;
    // Bright images are class 1, dark ones class 0: one epoch of a Dense layer learns it.
    auto bright = [](int i) { return i % 2; };
    write_idx(d / "x", d / "y", 64, 4, 4, [&](int i, int, int) { return static_cast<unsigned char>(bright(i) ? 230 : 20); }, bright);
    std::ofstream(d / "m.cnn") << "dataset s {\n"
                                  "    train = idx(\"x\", \"y\")\n"
                                  "    rescale = 1/255\n"
                                  "    labels = int\n"
                                  "    class_names = [\"dark\", \"bright\"]\n"
                                  "}\n"
                                  "model m { input(4, 4, 1)  Flatten()  Dense(2, activation = softmax) }\n"
                                  "train m on s.train { optimizer = adam(0.05)  loss = sparse_categorical_crossentropy  epochs = 8  batch_size = 8 }\n";
    CommandResult r = run_cnnc("run m.cnn --seed 1 --no-cache", d.path());
    INFO(r.output);
    REQUIRE(r.status == 0);
    // A PGM of each kind.
    write_bytes(d / "on.pgm", std::string("P5\n4 4\n255\n") + std::string(16, static_cast<char>(230)));
    write_bytes(d / "off.pgm", std::string("P5\n4 4\n255\n") + std::string(16, static_cast<char>(20)));
    CommandResult p = run_cnnc("predict m.cnn --no-cache --weights m.weights.h5 on.pgm off.pgm", d.path());
    INFO(p.output);
    REQUIRE(p.status == 0);
    CHECK_THAT(p.output, Catch::Contains("on.pgm: bright ("));
    CHECK_THAT(p.output, Catch::Contains("off.pgm: dark ("));
    CHECK_THAT(p.output, Catch::Contains("[dark: "));
}
