// The include check (cmake/CheckIncludes.cmake): the repository keeps to the layering table in
// docs/ARCHITECTURE.md, and a tree that breaks its own table fails with the file, the line and the
// rule.
#include <filesystem>
#include <fstream>
#include <regex>

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

// The shape of compiler/src's family folders: a table of five layers (`cfg` as `kernel`, `schema`
// as `layers`, `ops` as `lower`, `gen` as `kernels`), the roles of a family folder's files, and
// <Gen.h> as `gen`'s library header, like <Halide.h>.
const char* kFamilyTable =
    "| layer | folder | may include | its job |\n"
    "|---|---|---|---|\n"
    "| `base` | `src/base/` | — | the bottom |\n"
    "| `cfg` | `src/cfg/` | `base` | configurations |\n"
    "| `schema` | `src/schema/` | `base` | records |\n"
    "| `ops` | `src/ops/` | `cfg`, `schema` | ops |\n"
    "| `gen` | `src/gen/` | `cfg` | generators |\n"
    "\n"
    "| role | layer | what |\n"
    "|---|---|---|\n"
    "| `Layer*` | `schema` | records |\n"
    "| `Op*` | `ops` | ops |\n"
    "| `Kernels*` | `gen` | builders |\n"
    "| `Config*` | `cfg` | configurations |\n"
    "| `<Gen.h>` | `gen` | the generator library |\n";

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

TEST_CASE("a family folder's file is checked against its role's layer", "[layering]") {
    TempDir dir;
    write(dir, "ARCHITECTURE.md", kFamilyTable);
    for (const char* layer : {"base", "cfg", "schema", "ops", "gen"})
        write(dir, std::string("src/") + layer + "/" + layer + ".h", "#pragma once\n");
    write(dir, "src/schema/conv/Layer.cpp", "#include \"schema/schema.h\"\n");
    write(dir, "src/schema/conv/Config.h", "#pragma once\n#include \"base/base.h\"\n");
    write(dir, "src/schema/conv/Op.cpp", "#include \"schema/conv/Config.h\"\n#include \"schema/schema.h\"\n");
    write(dir, "src/schema/conv/Kernels.cpp", "#include <Gen.h>\n#include \"gen/gen.h\"\n#include \"schema/conv/Config.h\"\n");
    SECTION("a family that keeps to its roles passes") {
        auto r = check_includes(dir.path(), dir / "ARCHITECTURE.md");
        INFO(r.output);
        CHECK(r.status == 0);
    }
    SECTION("a Layer file including its family's Config") {
        write(dir, "src/schema/conv/Layer.cpp", "#include \"schema/schema.h\"\n#include \"schema/conv/Config.h\"\n");
        CHECK_THAT(failing_check(dir),
                   Catch::Contains("src/schema/conv/Layer.cpp:2: #include \"schema/conv/Config.h\": Layer* files are in schema: "
                                   "schema may not include cfg (schema may include base)"));
    }
    SECTION("a Layer file including the kernel layer's folder") {
        write(dir, "src/schema/conv/Layer.cpp", "#include \"cfg/cfg.h\"\n");
        CHECK_THAT(failing_check(dir), Catch::Contains("src/schema/conv/Layer.cpp:1: #include \"cfg/cfg.h\": Layer* files are in schema: "
                                                       "schema may not include cfg"));
    }
    SECTION("an Op file including the generator library's header") {
        write(dir, "src/schema/conv/Op.cpp", "#include \"schema/schema.h\"\n#include <Gen.h>\n");
        CHECK_THAT(failing_check(dir), Catch::Contains("src/schema/conv/Op.cpp:2: #include <Gen.h>: Op* files are in ops: "
                                                       "ops may not include gen"));
    }
    SECTION("an Op file including its family's Kernels") {
        write(dir, "src/schema/conv/Op.cpp", "#include \"schema/conv/Kernels.h\"\n");
        CHECK_THAT(failing_check(dir), Catch::Contains("src/schema/conv/Op.cpp:1: #include \"schema/conv/Kernels.h\": Op* files are in ops: "
                                                       "ops may not include gen"));
    }
    SECTION("a Kernels file including a record") {
        write(dir, "src/schema/conv/Kernels.cpp", "#include \"schema/schema.h\"\n");
        CHECK_THAT(failing_check(dir), Catch::Contains("src/schema/conv/Kernels.cpp:1: #include \"schema/schema.h\": Kernels* files are in gen: "
                                                       "gen may not include schema (gen may include cfg, base)"));
    }
    SECTION("a file without a role") {
        write(dir, "src/schema/conv/Helpers.h", "#pragma once\n");
        CHECK_THAT(failing_check(dir), Catch::Contains("src/schema/conv/Helpers.h: a file in a family folder is named after its role "
                                                       "(Layer*, Op*, Kernels*, Config*)"));
    }
    SECTION("a role placed in a layer the table does not have") {
        write(dir, "ARCHITECTURE.md", std::string(kFamilyTable) + "| `Extra*` | `nowhere` | |\n");
        std::string out = failing_check(dir);
        // CMake wraps an error's text: undo it.
        out = std::regex_replace(out, std::regex("\\s+"), " ");
        CHECK_THAT(out, Catch::Contains("'Extra*' is placed in 'nowhere', which is not a layer"));
    }
}
