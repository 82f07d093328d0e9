// The include check (cmake/CheckIncludes.cmake): the repository keeps to the layering table in
// docs/ARCHITECTURE.md, and a tree that breaks its own table fails with the file, the line and the
// rule.
#include <filesystem>
#include <fstream>

#include "Helpers.h"
#include "TempDir.h"

using namespace cnnc::test;

namespace {

// Runs the check on `tree` against the table in `table` (skips the test when cmake is missing).
CommandResult check_includes(const std::string& tree, const std::string& table) {
    if (run_shell("cmake --version").status != 0) skip("no cmake on the PATH");
    return run_shell("cmake -DROOT='" + tree + "' -DTABLE='" + table + "' -P '" + root() + "/cmake/CheckIncludes.cmake'");
}

void write(const TempDir& dir, const std::string& rel, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(dir / rel).parent_path());
    std::ofstream(dir / rel) << text;
}

// The check's output on a tree with its table in ARCHITECTURE.md, which must fail.
std::string failing_check(const TempDir& dir) {
    auto r = check_includes(dir.path(), dir / "ARCHITECTURE.md");
    CHECK(r.status != 0);
    return r.output;
}

// A table of four layers: `left` and `right` beside each other on `low`, `top` above both.
const char* kTable =
    "| layer | folder | may include | its job |\n"
    "|---|---|---|---|\n"
    "| `low` | `src/low/` | — | the bottom |\n"
    "| `left` | `src/left/` | `low` | one side |\n"
    "| `right` | `src/right/` | `low` | the other side |\n"
    "| `top` | `src/top/` | `left`, `right` | the top |\n";

}  // namespace

TEST_CASE("the repository's includes keep to docs/ARCHITECTURE.md", "[layering]") {
    auto r = check_includes(root(), root() + "/docs/ARCHITECTURE.md");
    INFO(r.output);
    CHECK(r.status == 0);
}

TEST_CASE("an include upward or sideways fails the check with its file, line and rule", "[layering]") {
    TempDir dir;
    write(dir, "ARCHITECTURE.md", kTable);
    write(dir, "src/low/Low.h", "#pragma once\n");
    write(dir, "src/left/Left.h", "#pragma once\n#include \"low/Low.h\"\n");
    write(dir, "src/right/Right.h", "#pragma once\n#include \"low/Low.h\"\n");
    write(dir, "src/top/Top.cpp", "#include \"left/Left.h\"\n#include \"right/Right.h\"\n#include \"low/Low.h\"\n");
    SECTION("a tree that keeps to the table passes") {
        auto r = check_includes(dir.path(), dir / "ARCHITECTURE.md");
        INFO(r.output);
        CHECK(r.status == 0);
    }
    SECTION("upward") {
        write(dir, "src/low/Low.cpp", "#include \"low/Low.h\"\n\n#include \"top/Top.h\"\n");
        CHECK_THAT(failing_check(dir), Catch::Contains("src/low/Low.cpp:3: #include \"top/Top.h\": low may not include top (low may include no other layer)"));
    }
    SECTION("sideways") {
        write(dir, "src/left/Left.cpp", "#include \"right/Right.h\"\n");
        CHECK_THAT(failing_check(dir), Catch::Contains("src/left/Left.cpp:1: #include \"right/Right.h\": left may not include right (left may include low)"));
    }
    SECTION("a folder the table does not have") {
        write(dir, "src/extra/Extra.h", "#pragma once\n");
        CHECK_THAT(failing_check(dir), Catch::Contains("src/extra/: a folder that is not a row of the layering table"));
    }
    SECTION("a table naming a row below it") {
        write(dir, "ARCHITECTURE.md", "| `a` | `src/a/` | `b` | |\n| `b` | `src/b/` | — | |\n");
        CHECK_THAT(failing_check(dir), Catch::Contains("layer 'a' names 'b', which is not a"));  // CMake wraps the rest
    }
}
