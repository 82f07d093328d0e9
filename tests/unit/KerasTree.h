// Keras weights files' whole HDF5 trees (tests/reference/keras_tree.py, h5py): cnnc's file
// compared with a golden tree of tests/golden/weights/, and files h5py writes to a golden's
// structure (dataset k of the tree holds 100 * k + its flat index).
#pragma once
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "EngineHelpers.h"

namespace cnnc::test {

// Every weight of `net` uniform in [-1, 1).
inline void randomize(rt::Network& net, uint64_t seed) {
    rt::Rng rng(seed);
    for (rt::Param* p : net.params()) fill_uniform(p->value.data(), p->value.size(), rng, -1, 1);
}

inline void need_h5py() {
    if (std::system("/usr/bin/python3 -c 'import h5py, numpy' > /dev/null 2>&1") != 0)
        skip("/usr/bin/python3 with h5py and numpy is not installed (scripts/install-deps installs them)");
}

inline std::string tool() { return "/usr/bin/python3 " + root() + "/tests/reference/keras_tree.py"; }

// A tree's lines without its comments, sorted (the order keras_tree.py dumps in).
inline std::vector<std::string> tree_lines(std::istream& in) {
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] != '#') out.push_back(line);
    std::sort(out.begin(), out.end());
    return out;
}

inline std::vector<std::string> golden(const std::string& name) {
    std::ifstream in(root() + "/tests/golden/weights/" + name);
    REQUIRE(in);
    return tree_lines(in);
}

inline std::vector<std::string> dump(const std::string& file) {
    CommandResult r = run_shell(tool() + " dump " + file);
    INFO(r.output);
    REQUIRE(r.status == 0);
    std::istringstream in(r.output);
    return tree_lines(in);
}

inline void check_tree(const std::string& file, const std::string& golden_name) {
    std::vector<std::string> want = golden(golden_name), got = dump(file);
    for (const std::string& l : want)
        if (!std::binary_search(got.begin(), got.end(), l)) FAIL_CHECK("missing from cnnc's file: " << l);
    for (const std::string& l : got)
        if (!std::binary_search(want.begin(), want.end(), l)) FAIL_CHECK("not in Keras' file: " << l);
}

// Writes a file with the structure of golden `name` (the Keras side of a round trip).
inline void write_golden(const std::string& name, const std::string& file) {
    CommandResult r = run_shell(tool() + " write " + root() + "/tests/golden/weights/" + name + " " + file);
    INFO(r.output);
    REQUIRE(r.status == 0);
}

// The datasets of golden `name` in its order: the k of each one's values.
inline std::vector<std::string> golden_datasets(const std::string& name) {
    std::ifstream in(root() + "/tests/golden/weights/" + name);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        if (line.find(" dataset ") != std::string::npos) out.push_back(line.substr(1, line.find(' ') - 1));
    return out;
}

}  // namespace cnnc::test
