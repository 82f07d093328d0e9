// `cnnc build` and the kernel cache, end to end: an executable built from the bars model runs with
// no Halide, LLVM or other non-system library, trains to the same losses as `cnnc run` (and its
// SSE4.1 fallback variant to float tolerance), evaluates and predicts from the saved weights; and
// `cnnc run` reuses its cached kernels, compiles only what a changed model needs, and recovers from
// a corrupt cache file.
#include <stb/stb_image_write.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "Bars.h"
#include "Helpers.h"
#include "TempDir.h"
#include "kernel/Kernel.h"
#include "kernels/Aot.h"
#include "kernels/Jit.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

TEST_CASE("KernelSpec keys parse back to the same spec, floats exactly", "[kernels]") {
    engine::KernelSpec s("affine");
    s.set("scale", std::vector<float>{1 / 255.f, 0.1f, -3e-8f}).set("reverse", true).set("act", "relu").set("c", 3);
    std::string key = s.key();
    CHECK(key.rfind("affine(scale=", 0) == 0);
    engine::KernelSpec p = engine::KernelSpec::parse(key);
    CHECK(p.key() == key);
    CHECK(p.floats("scale") == std::vector<float>{1 / 255.f, 0.1f, -3e-8f});
    CHECK(p.b("reverse"));
    CHECK(p.i("c") == 3);
    CHECK(p.s("act") == "relu");
    CHECK_THROWS(engine::KernelSpec::parse("affine(scale"));
    CHECK_THROWS(engine::KernelSpec("x").set("act", "a,b"));  // a value that would not parse back
}

TEST_CASE("cached kernel names depend on the spec, the target and the compiler's build", "[kernels]") {
    TempDir dir;
    engine::ObjectCache cache(dir.path());
    engine::KernelSpec a = engine::KernelSpec("act_fwd").set("act", "relu").set("c", 8);
    engine::KernelSpec b = engine::KernelSpec("act_fwd").set("act", "relu").set("c", 16);
    Halide::Target avx2("x86-64-linux-avx-avx2-f16c-fma-sse41"), sse("x86-64-linux-sse41");
    CHECK(cache.name(a, avx2) == cache.name(a, avx2));
    CHECK(cache.name(a, avx2) != cache.name(b, avx2));
    CHECK(cache.name(a, avx2) != cache.name(a, sse));
    // The identity carries this binary's GNU build ID (40 hex digits), which any rebuild changes.
    std::string id = engine::compiler_identity();
    INFO(id);
    auto at = id.rfind(" build ");
    REQUIRE(at != std::string::npos);
    CHECK(id.size() - at - 7 == 40);
    CHECK(id.find("halide ?") == std::string::npos);
    // The portable set: this CPU's features first, SSE4.1 last; bad target strings are refused.
    auto v = engine::variants_for("portable");
    CHECK(v.front().name == "host");
    CHECK(v.back().name == "sse41");
    CHECK_THROWS_AS(engine::variants_for("x86-64-linux-avx9"), std::invalid_argument);
}

TEST_CASE("cnnc build: a standalone executable that trains, evaluates and predicts as cnnc does", "[build][cli]") {
    TempDir dir;
    fs::path d = dir.path();
    write_bars_problem(d);
    const std::string env = "CNNC_CACHE_DIR='" + (d / "cache").string() + "'";

    CommandResult b = run_cnnc("build bars.cnn -o bars_exe", d.string(), env);
    INFO(b.output);
    REQUIRE(b.status == 0);
    // portable: this CPU, AVX2, SSE4.1; on an AVX2 CPU (Zen 3) this CPU's target is the AVX2 one.
    const auto portable = engine::variants_for("portable");
    const bool avx2_separate = portable.size() == 3;
    CHECK(portable.size() == (engine::host_target() == Halide::Target("x86-64-linux-avx-avx2-f16c-fma-sse41") ? 2u : 3u));
    CHECK_THAT(b.output, Catch::Contains("for " + std::to_string(portable.size()) + " targets"));
    const std::string exe = (d / "bars_exe").string();
    REQUIRE(fs::exists(exe));

    // Only the C library and the dynamic loader: no Halide, LLVM, ANTLR, HDF5, fmt, libpng, libjpeg,
    // zlib, libstdc++. Read from the libraries the executable names itself (its NEEDED entries), not
    // ldd's closure: a sanitized build's executables also need libasan and libubsan, which bring
    // libstdc++ in for themselves.
    CommandResult deps = run_shell("readelf -d '" + exe + "' | grep NEEDED");
    INFO(deps.output);
    CHECK_THAT(deps.output, Catch::Contains("libc.so"));
    for (const char* lib : {"Halide", "LLVM", "antlr", "hdf5", "fmt", "libpng", "libjpeg", "libz", "libstdc++", "libstb", "curl"})
        CHECK(deps.output.find(lib) == std::string::npos);

    // The same summary as cnnc's.
    CommandResult s1 = run_shell("cd '" + d.string() + "' && LANG=C.UTF-8 ./bars_exe summary");
    CommandResult s2 = run_cnnc("summary bars.cnn", d.string(), "LANG=C.UTF-8");
    CHECK(s1.status == 0);
    CHECK(s1.output == s2.output);
    CHECK_THAT(s1.output, Catch::Contains("Total params: 226"));

    // Training: the same losses as cnnc run (JIT-free disk-cache kernels there, linked ones here).
    CommandResult t1 = run_shell("cd '" + d.string() + "' && ./bars_exe train --seed 5 --output-dir exe_out");
    INFO(t1.output);
    REQUIRE(t1.status == 0);
    CommandResult t2 = run_cnnc("run bars.cnn --seed 5 --output-dir run_out", d.string(), env);
    INFO(t2.output);
    REQUIRE(t2.status == 0);
    CHECK_THAT(t2.output, Catch::Contains("from the cache"));  // cnnc build compiled the host kernels
    check_close(losses(d / "exe_out" / "bar_net_history.csv"), losses(d / "run_out" / "bar_net_history.csv"), 1e-6);
    // The SSE4.1 variant (what a CPU without AVX gets): other instructions, the same numbers to
    // float rounding.
    CommandResult t3 = run_shell("cd '" + d.string() + "' && CNNC_VARIANT=sse41 ./bars_exe train --seed 5 --output-dir sse_out");
    INFO(t3.output);
    REQUIRE(t3.status == 0);
    check_close(losses(d / "exe_out" / "bar_net_history.csv"), losses(d / "sse_out" / "bar_net_history.csv"), 1e-4);
    const std::string second = avx2_separate ? "avx2" : "sse41";  // a variant chosen by hand over this CPU's
    CommandResult info = run_shell("cd '" + d.string() + "' && CNNC_VARIANT=" + second + " ./bars_exe info");
    CHECK_THAT(info.output, Catch::Contains(second + " (in use)"));

    // Evaluation from the saved weights gives what the training run's evaluation printed.
    const std::string weights = (d / "exe_out" / "bar_net.weights.h5").string();
    REQUIRE(fs::exists(weights));
    CommandResult e = run_shell("cd '" + d.string() + "' && ./bars_exe evaluate --weights '" + weights + "'");
    INFO(e.output);
    REQUIRE(e.status == 0);
    double trained = metric_on_line(t1.output, "bar_net on bars.test: ", "accuracy");
    CHECK(metric_on_line(e.output, "bar_net on bars.test: ", "accuracy") == trained);
    CHECK(metric_on_line(e.output, "bar_net on bars.test: ", "loss") == metric_on_line(t1.output, "bar_net on bars.test: ", "loss"));
    CHECK(trained >= 0.9);

    // Prediction on PNG files: a vertical bar is class 0, a horizontal one class 1 (the images are
    // 16x16, resized to the model's 8x8 as the data loader would).
    unsigned char vertical[16 * 16], horizontal[16 * 16];
    for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x) {
            vertical[y * 16 + x] = (x / 2 == 3) ? 230 : 10;
            horizontal[y * 16 + x] = (y / 2 == 5) ? 230 : 10;
        }
    REQUIRE(stbi_write_png((d / "v.png").string().c_str(), 16, 16, 1, vertical, 16));
    REQUIRE(stbi_write_png((d / "h.png").string().c_str(), 16, 16, 1, horizontal, 16));
    CommandResult p = run_shell("cd '" + d.string() + "' && ./bars_exe predict --weights '" + weights + "' v.png h.png");
    INFO(p.output);
    REQUIRE(p.status == 0);
    CHECK_THAT(p.output, Catch::Contains("v.png: 0 ("));
    CHECK_THAT(p.output, Catch::Contains("h.png: 1 ("));
    // cnnc predict prints the same lines.
    CommandResult p2 = run_cnnc("predict bars.cnn --weights '" + weights + "' v.png h.png", d.string(), env);
    CHECK(p2.output == p.output);

    // Errors: a missing weights file, a missing image, a missing flag, an unknown variant.
    CommandResult m1 = run_shell("cd '" + d.string() + "' && ./bars_exe evaluate --weights nope.h5");
    CHECK(m1.status == 1);
    CHECK_THAT(m1.output, Catch::Contains("nope.h5"));
    CommandResult m2 = run_shell("cd '" + d.string() + "' && ./bars_exe predict --weights '" + weights + "' missing.png");
    CHECK(m2.status == 1);
    CHECK_THAT(m2.output, Catch::Contains("missing.png: no such image file"));
    CHECK(run_shell("cd '" + d.string() + "' && ./bars_exe predict v.png").status == 2);
    CommandResult m3 = run_shell("cd '" + d.string() + "' && CNNC_VARIANT=neon ./bars_exe train");
    CHECK(m3.status == 1);
    CHECK_THAT(m3.output, Catch::Contains("not in this executable"));

    // A model file with errors builds nothing.
    std::ofstream(d / "broken.cnn") << "model m {\n    input(8, 8, 1)\n    Dense(2, activation = softmaks)\n}\n";
    CommandResult bad = run_cnnc("build broken.cnn -o broken_exe", d.string(), env);
    CHECK(bad.status == 1);
    CHECK_THAT(bad.output, Catch::Contains("broken.cnn:3:"));
    CHECK(!fs::exists(d / "broken_exe"));
}

TEST_CASE("cnnc run's kernel cache: reused, never stale, rebuilt when corrupt", "[build][cli]") {
    TempDir dir;
    fs::path d = dir.path();
    write_bars_problem(d);
    const std::string env = "CNNC_CACHE_DIR='" + (d / "cache").string() + "'";
    CommandResult first = run_cnnc("run bars.cnn --seed 2 --epochs 1 --output-dir a", d.string(), env);
    INFO(first.output);
    REQUIRE(first.status == 0);
    CHECK_THAT(first.output, Catch::Contains("compiled in"));
    CHECK_THAT(first.output, !Catch::Contains("from the cache"));

    CommandResult second = run_cnnc("run bars.cnn --seed 2 --epochs 1 --output-dir b", d.string(), env);
    INFO(second.output);
    REQUIRE(second.status == 0);
    CHECK_THAT(second.output, !Catch::Contains("compiled in"));
    CHECK_THAT(second.output, Catch::Contains("from the cache"));
    check_close(losses(d / "a" / "bar_net_history.csv"), losses(d / "b" / "bar_net_history.csv"), 0);

    // A changed model: the new layer's kernels are compiled, the rest reused.
    std::string model = kModel;
    model.replace(model.find("Flatten()"), 9, "Flatten()\n    Dropout(0.25)");
    std::ofstream(d / "bars6.cnn") << model;
    CommandResult changed = run_cnnc("run bars6.cnn --seed 2 --epochs 1 --output-dir c", d.string(), env);
    INFO(changed.output);
    REQUIRE(changed.status == 0);
    CHECK_THAT(changed.output, Catch::Contains("compiled in"));
    CHECK_THAT(changed.output, Catch::Contains("from the cache"));

    // Every cached shared object truncated: a warning, the kernels compiled again, the same numbers.
    int truncated = 0;
    for (const auto& e : fs::directory_iterator(d / "cache"))
        if (e.path().extension() == ".so" && e.path().filename().string().rfind("k", 0) == 0) {
            std::ofstream(e.path(), std::ios::trunc) << "not an ELF file";
            ++truncated;
        }
    CHECK(truncated > 0);
    CommandResult after = run_cnnc("run bars.cnn --seed 2 --epochs 1 --output-dir e", d.string(), env);
    INFO(after.output);
    REQUIRE(after.status == 0);
    CHECK_THAT(after.output, Catch::Contains("does not match its checksum"));
    check_close(losses(d / "a" / "bar_net_history.csv"), losses(d / "e" / "bar_net_history.csv"), 0);

    // A cache directory that cannot be made: a warning, kernels compiled in memory, the same numbers.
    CommandResult nodir = run_cnnc("run bars.cnn --seed 2 --epochs 1 --output-dir g", d.string(), "CNNC_CACHE_DIR=/proc/cnnc-cache");
    INFO(nodir.output);
    REQUIRE(nodir.status == 0);
    CHECK_THAT(nodir.output, Catch::Contains("warning: cannot create the kernel cache directory /proc/cnnc-cache"));
    check_close(losses(d / "a" / "bar_net_history.csv"), losses(d / "g" / "bar_net_history.csv"), 1e-6);

    // --no-cache: JIT in memory, the same numbers.
    CommandResult jit = run_cnnc("run bars.cnn --seed 2 --epochs 1 --output-dir f --no-cache", d.string(), env);
    REQUIRE(jit.status == 0);
    check_close(losses(d / "a" / "bar_net_history.csv"), losses(d / "f" / "bar_net_history.csv"), 1e-6);
}
