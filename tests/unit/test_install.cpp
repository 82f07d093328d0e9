// An installed `cnnc build` finds the libraries and the header it builds executables from relative to
// its own executable (driver/LinkInputs.h), the build tree's cnnc finds them in the build tree, and a
// missing one is reported in one line that names the file and what to install. The whole install,
// moved and as a .deb, is scripts/test-install's (CI).
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "Bars.h"
#include "Helpers.h"
#include "TempDir.h"
#include "driver/LinkInputs.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

void touch(const fs::path& p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "";
}

}  // namespace

TEST_CASE("cnnc build links from the build tree when run from it", "[build][install]") {
    engine::LinkInputs in = engine::find_link_inputs(CNNC_BINARY);
    CHECK(in.header.path == root() + "/compiler/src/app/Bundle.h");
    CHECK(in.include_dir() == root() + "/compiler/src");
    REQUIRE(in.archives.size() > 2);
    CHECK(fs::path(in.archives.front().path).filename() == "libcnnc_app.a");
    CHECK(engine::missing_link_input(in) == "");
}

TEST_CASE("an installed cnnc build links from its own prefix and names what is missing", "[build][install]") {
    TempDir dir;
    const fs::path prefix = fs::path(dir.path()) / "p";
    fs::create_directories(prefix / "lib" / "cnnc");
    engine::LinkInputs in = engine::find_link_inputs(prefix / "bin" / "cnnc");
    CHECK(in.header.path == (prefix / "include" / "cnnc" / "app" / "Bundle.h").string());
    CHECK(in.include_dir() == (prefix / "include" / "cnnc").string());

    // Our archives under <prefix>/lib/cnnc, by the build tree's names and in its order; Debian's
    // static libraries where their packages put them.
    engine::LinkInputs built = engine::find_link_inputs(CNNC_BINARY);
    REQUIRE(in.archives.size() == built.archives.size());
    size_t ours = 0;
    for (size_t i = 0; i < in.archives.size(); ++i) {
        const fs::path a = in.archives[i].path, b = built.archives[i].path;
        CHECK(a.filename() == b.filename());
        if (a.parent_path() == prefix / "lib" / "cnnc") ++ours;
        else CHECK(a == b);
    }
    CHECK(ours > 10);

    std::string missing = engine::missing_link_input(in);
    CHECK(missing == in.header.path + " is missing: the installation in " + prefix.string() + " is incomplete; install cnnc again");
    touch(in.header.path);
    for (size_t i = 0; i < ours; ++i) touch(in.archives[i].path);
    CHECK(engine::missing_link_input(in) == "");
    fs::remove(in.archives[1].path);
    CHECK(engine::missing_link_input(in).rfind(in.archives[1].path + " is missing: ", 0) == 0);
    touch(in.archives[1].path);

    // A system library names the package that ships it (zlib's comes last).
    CHECK(in.archives.back().remedy == "install zlib1g-dev (apt-get install zlib1g-dev)");
    in.archives.back().path = (fs::path(dir.path()) / "libz.a").string();
    CHECK(engine::missing_link_input(in) == in.archives.back().path + " is missing: install zlib1g-dev (apt-get install zlib1g-dev)");

    // No C++ compiler on the PATH.
    const std::string path = std::getenv("PATH");
    setenv("PATH", dir.path().c_str(), 1);
    missing = engine::missing_link_input(in);
    setenv("PATH", path.c_str(), 1);
    CHECK(missing == "c++ (the C++ compiler) is not on the PATH: install g++ (apt-get install g++)");
}

TEST_CASE("cnnc build with an incomplete installation says what is missing in one line", "[build][install][cli]") {
    TempDir dir;
    const fs::path d = dir.path(), exe = d / "p" / "bin" / "cnnc";
    write_bars_problem(d);
    fs::create_directories(exe.parent_path());
    fs::create_directories(d / "p" / "lib" / "cnnc");
    fs::copy_file(CNNC_BINARY, exe);
    CommandResult r = run_shell("cd '" + d.string() + "' && '" + exe.string() + "' build bars.cnn");
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK(r.output == "cnnc build: error: " + (d / "p" / "include" / "cnnc" / "app" / "Bundle.h").string() +
                          " is missing: the installation in " + (d / "p").string() + " is incomplete; install cnnc again\n");
}
