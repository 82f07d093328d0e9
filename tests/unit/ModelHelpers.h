// Shared by the tests that look into a checked model: the one model of a snippet, its layers by
// name, in the order written.
#pragma once
#include <string>
#include <vector>

#include "Helpers.h"

namespace cnnc::test {

// The file's only model, after checking that the file compiled without errors.
inline const Model& only_model(const Compilation& c) {
    require_ok(c);
    REQUIRE(c.program.models.size() == 1);
    return c.program.models.front();
}

// The names of the model's leaf layers, in the order written.
inline std::vector<std::string> leaf_names(const Model& m) {
    std::vector<std::string> v;
    for (const LayerNode* l : m.leaves()) v.push_back(l->name);
    return v;
}

}  // namespace cnnc::test
