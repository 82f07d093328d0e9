// Test case names are arguments to ctest and to the Catch binary (catch_discover_tests runs each
// test as `cnnc_tests "<name>"`): a name starting with '-' is read as an option there, so that test
// never runs as itself.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "Helpers.h"

using namespace cnnc::test;
namespace fs = std::filesystem;

TEST_CASE("no test case name starts with '-', which ctest and Catch would read as an option", "[meta]") {
    const std::string opening = std::string("TEST_CASE(") + '"';  // split so this file does not match itself
    int files = 0;
    for (const auto& e : fs::directory_iterator(root() + "/tests/unit")) {
        if (e.path().extension() != ".cpp") continue;
        ++files;
        std::ifstream in(e.path());
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string text = ss.str();
        for (size_t at = text.find(opening); at != std::string::npos; at = text.find(opening, at + 1)) {
            INFO(e.path().filename().string() << ": " << text.substr(at, text.find('\n', at) - at));
            CHECK(text[at + opening.size()] != '-');
        }
    }
    CHECK(files > 10);
}
