// The bars problem the CLI tests train on: real IDX files of 8x8 images, class 0 a bright vertical
// bar at a random column, class 1 a horizontal one; and a small model file for it.
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "TestData.h"
#include "train/Random.h"

namespace cnnc::test {

// Class 0: a bright vertical bar at a random column; class 1: a horizontal bar. 8x8 pixels.
inline void write_bars(const std::filesystem::path& images, const std::filesystem::path& labels, int n, uint64_t seed) {
    rt::Rng rng(seed);
    int at = 0;
    write_idx(images, labels, n, 8, 8,
              [&](int i, int y, int x) {
                  if (y == 0 && x == 0) at = static_cast<int>(rng.below(8));
                  bool on = i % 2 == 0 ? x == at : y == at;
                  return static_cast<unsigned char>(on ? 200 + rng.below(55) : rng.below(40));
              },
              [](int i) { return i % 2; });
}

inline const char* kModel = R"(
dataset bars {
    train = idx("train-images", "train-labels")
    test  = idx("test-images", "test-labels")
    rescale = 1/255
    labels = one_hot(2)
}
model bar_net {
    input(8, 8, 1)
    Conv2D(8, 3, activation = relu)
    MaxPooling2D(2)
    Flatten()
    Dense(2, activation = softmax)
}
train bar_net on bars.train {
    optimizer = adam(learning_rate = 0.01)
    loss = categorical_crossentropy
    metrics = [accuracy]
    epochs = 4
    batch_size = 16
    validation = bars.test
}
evaluate bar_net on bars.test
)";

// The train and test files of the bars problem (200 and 60 images) and kModel as bars.cnn, in `dir`.
inline void write_bars_problem(const std::filesystem::path& dir) {
    write_bars(dir / "train-images", dir / "train-labels", 200, 1);
    write_bars(dir / "test-images", dir / "test-labels", 60, 2);
    std::ofstream(dir / "bars.cnn") << kModel;
}

// The loss column of a history CSV (what the CLI tests compare between runs).
inline std::vector<double> losses(const std::filesystem::path& csv) {
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);
    std::vector<double> out;
    while (std::getline(in, line)) out.push_back(std::stod(line.substr(line.find(',') + 1)));
    return out;
}

inline void check_close(const std::vector<double>& a, const std::vector<double>& b, double tol) {
    REQUIRE(a.size() == b.size());
    REQUIRE(!a.empty());
    for (size_t i = 0; i < a.size(); ++i) CHECK(std::abs(a[i] - b[i]) <= tol * std::max(1.0, std::abs(a[i])));
}

}  // namespace cnnc::test
