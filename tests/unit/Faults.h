// Shared by the test_faults_* tests: a file's bytes, and the weights a weights file holds.
#pragma once
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "Bars.h"
#include "io/Weights.h"

namespace cnnc::test {

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The bars problem in `dir`: `train` and `test` samples, and `model` as bars.cnn.
inline void write_bars_files(const std::filesystem::path& dir, int train, int test, const std::string& model) {
    write_bars(dir / "train-images", dir / "train-labels", train, 1);
    write_bars(dir / "test-images", dir / "test-labels", test, 2);
    std::ofstream(dir / "bars.cnn") << model;
}

// The weights in a file, by path (HDF5 stamps objects with their creation time: compare values).
inline std::map<std::string, std::vector<float>> weight_values(const std::filesystem::path& path) {
    std::map<std::string, std::vector<float>> out;
    for (const auto& [name, a] : rt::read_weights(path.string()).by_path) {
        if (name.rfind("optimizer/", 0) == 0) continue;  // the model's variables, not the optimizer's state
        rt::Tensor t(a.shape());
        a.read_into(t, name);
        out[name].assign(t.data(), t.data() + t.size());
    }
    return out;
}

}  // namespace cnnc::test
