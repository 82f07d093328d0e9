// `cnnc dump ast|program|kernels`: golden dumps of every model file in models/
// (tests/golden/dump/<model>.<stage>, rewritten by scripts/update-dump-goldens), every AST node
// kind in the AST dump, and the usual diagnostics and exit code 1 for a broken file.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "Helpers.h"
#include "syntax/AstDump.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {
std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

TEST_CASE("golden dumps of every model file, at every stage", "[dump][golden]") {
    int n = 0;
    for (const auto& e : fs::directory_iterator(root() + "/models")) {
        if (e.path().extension() != ".cnn") continue;
        std::string stem = e.path().stem().string();
        for (const char* stage : {"ast", "program", "kernels"}) {
            DYNAMIC_SECTION(stem << " " << stage) {
                // From the repository root with the path as written, as the update script runs it.
                CommandResult r = run_cnnc(std::string("dump ") + stage + " models/" + e.path().filename().string(), root());
                INFO(r.output.substr(0, 2000));
                REQUIRE(r.status == 0);
                fs::path golden = fs::path(root()) / "tests/golden/dump" / (stem + "." + stage);
                REQUIRE(fs::exists(golden));
                CHECK(r.output == read_text(golden));
                CHECK(r.output.find(root()) == std::string::npos);  // no absolute paths
            }
        }
        ++n;
    }
    CHECK(n >= 7);
}

TEST_CASE("a dump does not depend on the working directory", "[dump]") {
    for (const char* stage : {"ast", "program", "kernels"}) {
        CommandResult here = run_cnnc(std::string("dump ") + stage + " mnist.cnn", root() + "/models");
        CommandResult there = run_cnnc(std::string("dump ") + stage + " models/mnist.cnn", root());
        REQUIRE(here.status == 0);
        CHECK(here.output == there.output);
    }
}

TEST_CASE("the AST dump shows every kind of node with its position", "[dump]") {
    auto c = compile(R"(import "vgg16"
block b(n, k = 2) {
    repeat n as i {
        Dense(k * 2, use_bias = true, name = "d{i}")
    }
}
augmentation a { RandomFlip(horizontal) }
callbacks cb { TerminateOnNaN }
dataset d { train = csv("t.csv") }
model m {
    input(4)
    b(1)
    Dropout(-0.5 + 1.5, noise_shape = None)
}
train m on d.train { metrics = [accuracy] }
evaluate m on d.train
)");
    REQUIRE_FALSE(c->files.empty());
    std::string got = dump_ast(c->files[0], "test.cnn");
    for (const char* line : {"file test.cnn\n",
                             "  import \"vgg16\" @1:1\n",
                             "  block b @2:1\n    param n @2:9\n    param k @2:12\n      default = int 2 @2:16\n",
                             "    repeat @3:5\n      count = ref n @3:12\n      as i @3:17\n      call Dense() @4:9\n",
                             "        arg binary * @4:17\n          ref k @4:15\n          int 2 @4:19\n",
                             "        arg use_bias @4:22\n          = bool true @4:33\n",
                             "          = string \"d{i}\" @4:46\n",
                             "  augmentation a @7:1\n    call RandomFlip() @7:18\n      arg ref horizontal @7:29\n",
                             "  callbacks cb @8:1\n    call TerminateOnNaN @8:16\n",
                             "  dataset d @9:1\n    field train @9:13\n      call csv @9:21\n        arg string \"t.csv\" @9:25\n",
                             "      arg binary + @13:18\n        neg @13:13\n          float 0.5 @13:14\n        float 1.5 @13:20\n",
                             "        = none @13:39\n",
                             "  train m @15:1\n    on = ref d.train @15:12\n    field metrics @15:22\n      list @15:32\n        ref accuracy @15:33\n",
                             "  evaluate m @16:1\n    on = ref d.train @16:15\n"}) {
        INFO(got);
        CHECK_THAT(got, Catch::Contains(line));
    }
}

TEST_CASE("dump of a broken file: the diagnostics and exit code 1, nothing dumped", "[dump][cli]") {
    for (const char* stage : {"ast", "program", "kernels"}) {
        CommandResult r = run_cnnc(std::string("dump ") + stage + " tests/errors/fail_missing_argument.cnn", root());
        INFO(r.output);
        CHECK(r.status == 1);
        CHECK_THAT(r.output, Catch::Contains("fail_missing_argument.cnn:") && Catch::Contains(": error: "));
        CHECK_THAT(r.output, !Catch::Contains("@") && !Catch::Contains("model "));
    }
    CHECK(run_cnnc("dump ir models/mnist.cnn", root()).status == 2);  // a usage error
}
