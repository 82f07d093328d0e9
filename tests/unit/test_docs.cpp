// Every ```cnn example in README.md and docs/*.md compiles without errors, so the documentation
// cannot drift from the language.
#include <filesystem>
#include <fstream>

#include "Helpers.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {
std::vector<std::string> cnn_blocks(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> blocks;
    std::string line, cur;
    bool inside = false;
    size_t indent = 0;
    while (std::getline(in, line)) {
        size_t first = line.find_first_not_of(' ');
        std::string trimmed = first == std::string::npos ? "" : line.substr(first);
        if (!inside && trimmed == "```cnn") {
            inside = true;
            indent = first;
            cur.clear();
        } else if (inside && trimmed == "```") {
            inside = false;
            blocks.push_back(cur);
        } else if (inside) {
            cur += (line.size() >= indent ? line.substr(indent) : line) + "\n";
        }
    }
    return blocks;
}
}  // namespace

TEST_CASE("documentation examples compile", "[docs]") {
    namespace fs = std::filesystem;
    std::vector<std::string> files = {root() + "/README.md"};
    for (const auto& e : fs::directory_iterator(root() + "/docs"))
        if (e.path().extension() == ".md") files.push_back(e.path().string());
    int n = 0;
    for (const auto& f : files) {
        auto blocks = cnn_blocks(f);
        for (size_t i = 0; i < blocks.size(); ++i) {
            DYNAMIC_SECTION(fs::path(f).filename().string() << " example " << i + 1) {
                auto c = compile(blocks[i]);
                INFO(blocks[i]);
                require_ok(*c);
            }
            ++n;
        }
    }
    CHECK(n >= 8);
}
