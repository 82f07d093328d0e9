// Schedules chosen by measurement (kernels/Tuner.h): every schedule the tuner may choose computes
// what the default computes; a choice is measured once per CPU, kept in a schedules file beside
// the kernel cache and read back by the next run; a damaged file or an impossible schedule costs a
// new measurement or the default, never a wrong kernel; `cnnc run` and `cnnc build` use and report it.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "Bars.h"
#include "Helpers.h"
#include "TempDir.h"
#include "kernels/Jit.h"
#include "kernels/Tuner.h"
#include "layers/conv/Config.h"
#include "layers/dense/Config.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

void fill(engine::Buf& b, uint32_t seed) {
    uint32_t x = seed;
    b.for_each_value([&](float& v) {
        x = x * 1664525u + 1013904223u;
        v = static_cast<float>(x >> 8) / static_cast<float>(1 << 23) - 1.0f;
    });
}

// A 3x3 convolution that needs the padding and has an odd width, so tiles leave edges.
engine::ConvCfg small_conv(const std::string& act) {
    return engine::ConvCfg{16, 11, 7, 32, 11, 7, 3, 3, 1, 1, 1, 1, 1, 1, true, act};
}

// `spec` with knobs `k` run on the problem's inputs (filled from `seed` on), its outputs
// starting as NaN so that an element the kernel leaves unwritten shows.
struct Run {
    std::vector<engine::Buf> in, out;
};
Run run_problem(engine::KernelCache& jit, const engine::KernelSpec& spec, const engine::Knobs& k, const engine::TuneProblem& p,
                uint32_t seed = 7) {
    Run r;
    for (const auto& shape : p.inputs) r.in.emplace_back(shape), fill(r.in.back(), seed++);
    for (const auto& shape : p.outputs) r.out.emplace_back(shape), r.out.back().fill(NAN);
    jit.get(k.apply(spec))->run(r.in, r.out, p.ints);
    return r;
}
std::vector<engine::Buf> outputs_of(engine::KernelCache& jit, const engine::KernelSpec& spec, const engine::Knobs& k,
                                    const engine::TuneProblem& p) {
    return run_problem(jit, spec, k, p).out;
}

}  // namespace

TEST_CASE("every schedule the tuner may choose computes what the default computes", "[tuning]") {
    engine::JitKernels jit;
    const int batch = 5;  // not a multiple of any tile or grain
    engine::DenseCfg dense{40, 24, true, "relu"};
    // A first convolution (one input channel, K = 9): its dW tiles carry the bias as column 10.
    const engine::ConvCfg first{1, 12, 7, 32, 10, 5, 3, 3, 1, 1, 1, 1, 0, 0, true, "relu"};
    REQUIRE(engine::dw_columns(first) == 10);
    // An input gradient that applies its producer's relu (the backward fusion): one input more.
    engine::ConvCfg paired = small_conv("linear");
    paired.input_act = "relu";
    std::vector<engine::KernelSpec> specs = {
        small_conv("relu").spec("conv_fwd"), small_conv("relu").spec("conv_bwd_w"), small_conv("relu").spec("conv_bwd_x"),
        small_conv("linear").spec("conv_t_fwd"), first.spec("conv_bwd_w"), paired.spec("conv_bwd_x"), dense.spec("dense_fwd"),
        dense.spec("dense_bwd_w"), dense.spec("dense_bwd_x")};
    REQUIRE(specs[5].has("input_act"));
    // A convolution that max-pools its output (ConvCfg::pool_w) over an odd width: its blocks of
    // columns (s_cols) leave a ragged last block, and 1 is less than a register tile.
    engine::ConvCfg pooling{8, 25, 9, 16, 23, 7, 3, 3, 1, 1, 1, 1, 0, 0, true, "relu"};
    pooling.pool_w = 2, pooling.pool_h = 2;
    specs.push_back(pooling.spec("conv_fwd"));
    for (const auto& spec : specs) {
        auto p = engine::tune_problem(spec, engine::TuneRequest{batch, engine::TuneLevel::Quick, {}});
        REQUIRE(p);
        REQUIRE(p->candidates.size() >= 2);
        CHECK(p->candidates.front() == engine::Knobs{});
        // The knobs no quick search tries, on the kernels that read them.
        if (spec.name() == "conv_fwd")
            for (engine::Knobs k : {engine::Knobs{0, 0, 0, 2, 0}, engine::Knobs{8, 2, 3, 0, 0}, engine::Knobs{0, 0, 0, 0, 0, 1}, engine::Knobs{8, 2, 3, 0, 0, 1}})
                p->candidates.push_back(k);
        if (spec.has("pool_w"))
            for (int cols : {1, 2, 3, 11, 12}) {
                engine::Knobs k;
                k.cols = cols;
                p->candidates.push_back(k);
                k.vec = 8, k.vecs = 1, k.other = 5;
                p->candidates.push_back(k);
            }
        if (spec.name() == "conv_bwd_w") p->candidates.push_back({0, 0, 0, 0, 2}), p->candidates.push_back({0, 0, 0, 0, 7});
        if (spec.name() == "conv_bwd_x" || spec.name() == "conv_t_fwd")
            p->candidates.push_back({0, 0, 0, 0, 0, 1}), p->candidates.push_back({8, 1, 4, 0, 0, 1});
        auto want = outputs_of(jit, spec, p->candidates.front(), *p);
        for (size_t c = 1; c < p->candidates.size(); ++c) {
            const engine::Knobs& k = p->candidates[c];
            INFO(k.apply(spec).key());
            auto got = outputs_of(jit, spec, k, *p);
            REQUIRE(got.size() == want.size());
            for (size_t o = 0; o < got.size(); ++o) {
                double worst = 0;
                bool all_finite = true;
                auto* g = got[o].data();
                auto* w = want[o].data();
                for (size_t i = 0; i < got[o].number_of_elements(); ++i) {
                    all_finite &= std::isfinite(g[i]);
                    worst = std::max(worst, std::abs(double(g[i]) - double(w[i])) / (1.0 + std::abs(double(w[i]))));
                }
                CHECK(all_finite);  // every element written
                CHECK(worst < 1e-5);
            }
        }
    }
}

TEST_CASE("Dense dW with fewer units than a vector (vectors along the inputs) against the definition", "[tuning]") {
    engine::JitKernels jit;
    const int batch = 5;
    for (int units : {1, 3, 10}) {
        for (int in : {48, 64}) {
            engine::DenseCfg dense{in, units, true, "linear"};  // linear: dz is dy
            engine::KernelSpec spec = dense.spec("dense_bwd_w");
            INFO(spec.key());
            auto p = engine::tune_problem(spec, engine::TuneRequest{batch, engine::TuneLevel::Quick, {}});
            REQUIRE(p);
            CHECK(p->candidates.size() == 1);  // nothing to search
            auto [bufs, out] = run_problem(jit, spec, engine::Knobs{}, *p, 3);
            const float* x = bufs[0].data();   // (in, batch)
            const float* dy = bufs[2].data();  // (units, batch)
            double worst = 0;
            for (int u = 0; u < units; ++u) {
                double db = 0;
                for (int r = 0; r < batch; ++r) db += dy[u + units * r];
                worst = std::max(worst, std::abs(db - out[1].data()[u]));
                for (int k = 0; k < in; ++k) {
                    double dw = 0;
                    for (int r = 0; r < batch; ++r) dw += double(dy[u + units * r]) * x[k + in * r];
                    worst = std::max(worst, std::abs(dw - out[0].data()[u + units * k]));  // dW is (units, in), units innermost
                }
            }
            CHECK(worst < 1e-5);
        }
    }
}

TEST_CASE("conv dW with the bias as a column of ones, as its own pass, and without a bias, against the definition", "[tuning]") {
    engine::JitKernels jit;
    const int batch = 5;
    struct Case {
        engine::ConvCfg c;
        int columns;
    };
    const Case cases[] = {
        {{1, 10, 9, 32, 10, 9, 3, 3, 1, 1, 1, 1, 1, 1, true, "relu"}, 10},     // a first convolution: K + 1
        {{32, 6, 5, 64, 2, 2, 3, 3, 2, 2, 1, 1, 0, 0, true, "relu"}, 288},    // 289 = 17^2 tiles badly: own pass
        {{1, 10, 9, 32, 10, 9, 3, 3, 1, 1, 1, 1, 1, 1, false, "relu"}, 9},    // no bias: no column, no pass
        // K = 99 is large: its own pass, though 100 columns would tile as well; and a tile of the
        // 11 channels of one tap (dw_tile), not the default 4 x 3 across taps
        {{11, 7, 6, 64, 5, 4, 3, 3, 1, 1, 1, 1, 0, 0, true, "relu"}, 99},
    };
    for (const Case& k : cases) {
        const engine::ConvCfg& c = k.c;
        engine::KernelSpec spec = c.spec("conv_bwd_w");
        INFO(spec.key());
        CHECK(engine::dw_columns(c) == k.columns);
        auto p = engine::tune_problem(spec, engine::TuneRequest{batch, engine::TuneLevel::Quick, {}});
        REQUIRE(p);
        auto [bufs, out] = run_problem(jit, spec, engine::Knobs{}, *p, 11);
        const float *x = bufs[0].data(), *y = bufs[1].data(), *dy = bufs[2].data();  // (c, w, h, n), channels innermost
        auto dz = [&](int o, int ox, int oy, int n) {
            const size_t i = o + size_t(c.co) * (ox + size_t(c.ow) * (oy + size_t(c.oh) * n));
            return y[i] > 0 ? double(dy[i]) : 0.0;  // relu's derivative, from the stored output
        };
        double worst = 0;
        for (int o = 0; o < c.co; ++o) {
            double db = 0;
            for (int n = 0; n < batch; ++n)
                for (int oy = 0; oy < c.oh; ++oy)
                    for (int ox = 0; ox < c.ow; ++ox) db += dz(o, ox, oy, n);
            worst = std::max(worst, std::abs((c.bias ? db : 0.0) - out[1].data()[o]));
            for (int ky = 0; ky < c.kh; ++ky)
                for (int kx = 0; kx < c.kw; ++kx)
                    for (int i = 0; i < c.ci; ++i) {
                        double dw = 0;
                        for (int n = 0; n < batch; ++n)
                            for (int oy = 0; oy < c.oh; ++oy)
                                for (int ox = 0; ox < c.ow; ++ox) {
                                    const int ix = ox * c.sx + kx * c.dx - c.pl, iy = oy * c.sy + ky * c.dy - c.pt;
                                    if (ix < 0 || iy < 0 || ix >= c.w || iy >= c.h) continue;  // zero padding
                                    dw += dz(o, ox, oy, n) * x[i + size_t(c.ci) * (ix + size_t(c.w) * (iy + size_t(c.h) * n))];
                                }
                        const size_t kk = i + size_t(c.ci) * (kx + size_t(c.kw) * ky);  // Keras' (kh, kw, ci) order
                        worst = std::max(worst, std::abs(dw - out[0].data()[o + c.co * kk]));
                    }
        }
        CHECK(worst < 1e-4);
    }
}

TEST_CASE("the input gradient's default tile spans the row only where that pays, and the tuner measures the other", "[tuning]") {
    using engine::Tile;
    // Cats vs dogs' conv2d_4 (7 -> 9 columns, 256 channels): a 2 x 9 tile skips the border's taps.
    const engine::ConvCfg deep{256, 9, 9, 256, 7, 7, 3, 3, 1, 1, 1, 1, 0, 0, true, "relu"};
    CHECK(engine::dx_tile(deep, {}) == Tile{16, 2, 9});
    // Its conv2d_3 (18 -> 20 columns, 128 channels): a row tile would be 1 x 20, a broadcast for
    // every multiply-add; the default 4 x 4 stays.
    const engine::ConvCfg wide{128, 20, 20, 256, 18, 18, 3, 3, 1, 1, 1, 1, 0, 0, true, "relu"};
    const Tile wt = engine::dx_tile(wide, {});
    CAPTURE(wt.vec, wt.vecs, wt.other);
    CHECK(wt == Tile{16, 4, 4});
    // MNIST's conv2d_1 (11 -> 13 columns, 32 channels): the default is a row tile of one vector.
    const engine::ConvCfg mnist{32, 13, 13, 64, 11, 11, 3, 3, 1, 1, 1, 1, 0, 0, true, "relu"};
    CHECK(engine::dx_tile(mnist, {}) == Tile{16, 1, 13});
    // Where the default is a row tile, the tuner measures register_tile's as well.
    auto p = engine::tune_problem(deep.spec("conv_bwd_x"), engine::TuneRequest{8, engine::TuneLevel::Quick, {}});
    REQUIRE(p);
    CHECK(p->candidates.front() == engine::Knobs{});
    const Tile plain = engine::register_tile(deep.ci, deep.w);
    CHECK(std::count(p->candidates.begin(), p->candidates.end(), engine::Knobs{plain.vec, plain.vecs, plain.other}) == 1);
}

TEST_CASE("schedule knobs: absent ones leave the key alone, impossible ones give the default tile", "[tuning]") {
    engine::KernelSpec s = small_conv("relu").spec("conv_fwd");
    CHECK(engine::Knobs{}.apply(s).key() == s.key());
    engine::Knobs k{16, 2, 5, 4, 0};
    engine::KernelSpec t = k.apply(s);
    CHECK(t.key() == s.key().substr(0, s.key().size() - 1) + ",s_vec=16,s_vecs=2,s_other=5,s_grain=4)");
    CHECK(engine::Knobs::from(engine::KernelSpec::parse(t.key())) == k);
    const engine::Tile d = engine::register_tile(32, 26);
    CHECK(engine::register_tile(engine::Knobs{16, 2, 5}, 32, 26) == engine::Tile{16, 2, 5});
    CHECK(engine::register_tile(engine::Knobs{16, 3, 5}, 32, 26) == d);   // 3 vectors do not divide 2
    CHECK(engine::register_tile(engine::Knobs{12, 1, 5}, 36, 26) == engine::register_tile(36, 26));  // no 12-lane vectors
    CHECK(engine::register_tile(engine::Knobs{16, 2, 20}, 32, 26) == d);  // 40 accumulators
    CHECK(engine::register_tile(engine::Knobs{16, 1, 5}, 32, 26, true) == engine::register_tile(32, 26, true));  // 5 does not divide 26
    CHECK(engine::knob_or(0, 8, 3) == 3);
    CHECK(engine::knob_or(9, 8, 3) == 3);
    CHECK(engine::knob_or(2, 8, 3) == 2);
    // The default stays what it was before tuning existed: ~12-24 accumulators of full vectors.
    CHECK(d.vec == 16);
    CHECK(d.vecs * d.other >= 12);
    CHECK(d.vecs * d.other <= 24);
    // Quick tries 3 tiles, full more; none twice.
    auto quick = engine::tile_candidates(64, 26, false, 3, false), full = engine::tile_candidates(64, 26, false, 8, true);
    CHECK(quick.size() == 3);
    CHECK(full.size() > quick.size());
    for (size_t i = 0; i < full.size(); ++i)
        for (size_t j = i + 1; j < full.size(); ++j) CHECK_FALSE(full[i] == full[j]);

    // An AVX2 CPU has 16 registers of 8 floats: its candidates are tiles that fit them (the
    // default, 24 accumulators of 16 floats, would need 48 and spills).
    const engine::VectorUnit avx2 = engine::vector_unit(Halide::Target("x86-64-linux-avx-avx2-f16c-fma-sse41"));
    CHECK(avx2.lanes == 8);
    CHECK(avx2.registers == 16);
    CHECK(engine::vector_unit(Halide::Target("x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41")).lanes == 16);
    CHECK(engine::vector_unit(Halide::Target("x86-64-linux-sse41")).lanes == 4);
    for (bool exact : {false, true}) {
        auto t = engine::tile_candidates(64, 26, exact, 8, true, avx2);
        REQUIRE(t.size() >= 3);
        CHECK(t[0] == engine::default_tile(64, 26, exact, avx2));  // the target's default first
        CHECK(t[0].vecs * t[0].other <= 12);
        for (size_t i = 0; i < t.size(); ++i) {
            INFO(i);
            CHECK(t[i].vec <= 8);
            CHECK(t[i].vecs * t[i].other * (t[i].vec > 8 ? 2 : 1) <= 16);
        }
    }
}

TEST_CASE("a kernel that names no tile is compiled with one that fits the target's registers", "[tuning]") {
    const Halide::Target avx2("x86-64-linux-avx-avx2-f16c-fma-sse41"), avx512("x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41");
    engine::DenseCfg dense{40, 32, true, "relu"};
    const engine::KernelSpec conv = small_conv("relu").spec("conv_fwd"), bwd_w = dense.spec("dense_bwd_w");
    // AVX-512: the builders' own default, the key unchanged.
    CHECK(engine::fit_to_target(conv, avx512).key() == conv.key());
    CHECK(engine::fit_to_target(bwd_w, avx512).key() == bwd_w.key());
    // AVX2: a tile of 8-float vectors and at most 12 accumulators, the other knobs kept.
    for (const auto& spec : {conv, bwd_w, engine::Knobs{0, 0, 0, 2, 0}.apply(conv)}) {
        INFO(spec.key());
        engine::Knobs k = engine::Knobs::from(engine::fit_to_target(spec, avx2));
        CHECK(k.vec == 8);
        CHECK(k.vecs * k.other <= 12);
        CHECK(k.vecs * k.other >= 6);
        CHECK(k.grain == engine::Knobs::from(spec).grain);
    }
    // A tile chosen already, and a family with no tile, are left alone.
    const engine::KernelSpec chosen = engine::Knobs{16, 2, 5}.apply(conv), pool("pool_fwd");
    CHECK(engine::fit_to_target(chosen, avx2).key() == chosen.key());
    CHECK(engine::fit_to_target(pool, avx2).key() == pool.key());
    // The AVX2 kernels compute what this CPU's do (every x86-64 CPU these tests meet has AVX2).
    if (engine::host_target().has_feature(Halide::Target::AVX2)) {
        engine::JitKernels host, jit2(avx2);
        for (const auto& spec : {conv, bwd_w}) {
            INFO(spec.key());
            auto p = engine::tune_problem(spec, engine::TuneRequest{5, engine::TuneLevel::Quick, {}});
            REQUIRE(p);
            auto want = outputs_of(host, spec, {}, *p), got = outputs_of(jit2, spec, {}, *p);
            for (size_t o = 0; o < got.size(); ++o)
                for (size_t i = 0; i < got[o].number_of_elements(); ++i) {
                    double g = got[o].data()[i], w = want[o].data()[i];
                    REQUIRE(std::abs(g - w) / (1.0 + std::abs(w)) < 1e-5);
                }
        }
    }
}

TEST_CASE("tuning measures a kernel once per CPU and keeps the choice in the cache's directory", "[tuning]") {
    TempDir dir;
    engine::KernelSpec conv = small_conv("relu").spec("conv_fwd");
    engine::KernelSpec pool = engine::KernelSpec("act_fwd").set("act", "relu").set("c", 8);  // not a tuned family
    engine::TuneOptions o;
    o.dir = dir.path();
    o.batch = 4;
    o.min_mflop = 0;
    engine::TuneReport first;
    std::map<std::string, engine::KernelSpec> chosen;
    {
        engine::JitKernels bench;
        chosen = engine::tune_kernels({conv, pool}, bench, o, first);
    }
    CHECK(first.tuned == 1);
    CHECK(first.known == 0);
    CHECK(first.compiled == 5);  // 3 tiles, one coarser grain and Winograd
    CHECK(first.default_ms > 0);
    CHECK(first.best_ms <= first.default_ms);
    CHECK(chosen.count(pool.key()) == 0);
    CHECK(static_cast<int>(chosen.size()) == first.changed);
    for (const auto& [key, s] : chosen) CHECK(s.key().rfind(key.substr(0, key.size() - 1), 0) == 0);  // the op's spec plus knobs
    REQUIRE(fs::exists(first.book));
    CHECK(fs::path(first.book).parent_path() == fs::path(dir.path()) / "schedules");
    std::ifstream f(first.book);
    std::string header;
    std::getline(f, header);
    CHECK(header == "# cnnc schedules for: " + engine::cpu_identity());
    CHECK_THAT(first.describe(), Catch::Contains("tuned 1 kernel for this CPU"));

    // The next run reads the choice and compiles nothing to time.
    engine::TuneReport second;
    engine::JitKernels bench2;
    auto again = engine::tune_kernels({conv, pool}, bench2, o, second);
    CHECK(second.tuned == 0);
    CHECK(second.known == 1);
    CHECK(second.compiled == 0);
    CHECK(bench2.size() == 0);
    CHECK(again.size() == chosen.size());
    for (const auto& [key, s] : chosen) CHECK(again.at(key).key() == s.key());

    // A fuller search measures again what a quick one chose; then a quick one reads it.
    o.level = engine::TuneLevel::Full;
    engine::TuneReport full;
    engine::tune_kernels({conv}, bench2, o, full);
    CHECK(full.tuned == 1);
    CHECK(full.compiled > first.compiled);
    o.level = engine::TuneLevel::Quick;
    engine::TuneReport after;
    engine::tune_kernels({conv}, bench2, o, after);
    CHECK(after.tuned == 0);
    CHECK(after.known == 1);

    // Another CPU (or thread count) has a book of its own; off reads nothing.
    CHECK(engine::ScheduleBook(dir.path(), "another CPU; x86-64-linux; 2 threads").size() == 0);
    CHECK(engine::ScheduleBook(dir.path(), engine::cpu_identity()).size() == 1);
    o.level = engine::TuneLevel::Off;
    engine::TuneReport off;
    CHECK(engine::tune_kernels({conv}, bench2, o, off).empty());
    CHECK(off.tuned + off.known == 0);
    o.level = engine::TuneLevel::Quick;

    // A rank of an MPI job only reads: a kernel the book lacks keeps the default.
    engine::KernelSpec other = small_conv("relu").spec("conv_bwd_x");
    o.measure = false;
    engine::TuneReport rank;
    CHECK(engine::tune_kernels({other}, bench2, o, rank).empty());
    CHECK(rank.tuned == 0);
}

TEST_CASE("a batch whose buffers would pass the memory cap is timed smaller, a kernel past it at batch 1 is not timed", "[tuning]") {
    // One sample of this convolution is 11x7x16 in and 11x7x32 out: 14.8 KB with the weights' 18 KB once.
    engine::KernelSpec conv = small_conv("relu").spec("conv_fwd");
    TempDir dir;
    engine::TuneOptions o;
    o.dir = dir.path();
    o.batch = 1 << 24;  // 250 GB of buffers at this batch: allocating them would end the test
    o.min_mflop = 0;
    o.max_bytes = 200e3;  // a batch of at most 12
    engine::TuneReport report;
    {
        engine::JitKernels bench;
        engine::tune_kernels({conv}, bench, o, report);
    }
    CHECK(report.tuned == 1);
    CHECK(report.compiled == 5);  // 3 tiles, one coarser grain and Winograd
    // A cap below one sample: nothing is measured, the default stays.
    TempDir dir2;
    o.dir = dir2.path();
    o.max_bytes = 10e3;
    engine::TuneReport none;
    engine::JitKernels bench2;
    CHECK(engine::tune_kernels({conv}, bench2, o, none).empty());
    CHECK(none.tuned == 0);
    CHECK(none.compiled == 0);
}

TEST_CASE("schedules are measured only where they can be kept, and two runs saving at once keep both", "[tuning]") {
    TempDir dir;
    engine::KernelSpec conv = small_conv("relu").spec("conv_fwd");
    // A cache "directory" that is a file: nothing is measured (every run would pay it again).
    std::ofstream(dir / "not-a-dir") << "x";
    engine::TuneOptions o;
    o.dir = dir / "not-a-dir";
    o.batch = 2;
    o.min_mflop = 0;
    engine::TuneReport r;
    engine::JitKernels bench;
    CHECK(engine::tune_kernels({conv}, bench, o, r).empty());
    CHECK(r.unsaved);
    CHECK(r.tuned == 0);
    CHECK(r.compiled == 0);
    CHECK(bench.size() == 0);
    CHECK_THAT(r.describe(), Catch::Contains("not tuned, since"));

    // Two books read before either saved: the second save keeps the first one's kernel.
    const std::string id = engine::cpu_identity();
    engine::ScheduleBook a(dir.path(), id), b(dir.path(), id);
    a.put("conv_fwd(x=1)", {engine::Knobs{16, 1, 4}, 2.0, 1.5, 3, engine::TuneLevel::Quick});
    b.put("dense_fwd(x=2)", {engine::Knobs{}, 1.0, 1.0, 3, engine::TuneLevel::Full});
    a.save();
    b.save();
    engine::ScheduleBook both(dir.path(), id);
    REQUIRE(both.size() == 2);
    REQUIRE(both.find("conv_fwd(x=1)"));
    CHECK(both.find("conv_fwd(x=1)")->knobs == engine::Knobs{16, 1, 4});
    CHECK(both.find("dense_fwd(x=2)")->level == engine::TuneLevel::Full);
}

TEST_CASE("a damaged schedules file is measured again, never trusted", "[tuning]") {
    TempDir dir;
    engine::KernelSpec conv = small_conv("relu").spec("conv_fwd");
    const std::string id = engine::cpu_identity();
    engine::ScheduleBook book(dir.path(), id);
    fs::create_directories(fs::path(book.path()).parent_path());
    {
        std::ofstream f(book.path());
        f << "# cnnc schedules for: " << id << "\n"
          << "# kernel builders: " << engine::builders_identity() << "\n"
          << "garbage without tabs\n"
          << conv.key() << "\ts_vec=16,s_vecs=\t1\t1\t3\tquick\n"          // a malformed value
          << "conv_fwd(ci=\ts_vec=16\t1\t1\t3\tquick\n"                     // a malformed key
          << conv.key() << "\tdefault\t1\t1\t3\tsometimes\n"               // a malformed level
          << conv.key() << "\tdefault\t1\t1\t3\n"                           // a column short
          << "dense_fwd(in=8,units=8,bias=1,act=relu)\ts_vecs=7,s_vec=8,s_other=1\t0.1\t0.05\t3\tfull\n";  // valid text, impossible tile
    }
    // A temporary of a process killed while saving is removed; a live process's is not.
    const fs::path dead = fs::path(book.path()).parent_path() / "0123456789abcdef.tsv.tmp2147483646";
    const fs::path live = fs::path(book.path()).parent_path() / ("0123456789abcdef.tsv.tmp" + std::to_string(getpid()));
    std::ofstream(dead) << "half";
    std::ofstream(live) << "half";
    engine::ScheduleBook read(dir.path(), id);
    CHECK_FALSE(fs::exists(dead));
    CHECK(fs::exists(live));
    CHECK(read.size() == 1);
    CHECK(read.find(conv.key()) == nullptr);
    // The impossible tile builds the default kernel (register_tile checks every knob).
    const auto* e = read.find("dense_fwd(in=8,units=8,bias=1,act=relu)");
    REQUIRE(e);
    CHECK(engine::register_tile(e->knobs, 8, 8) == engine::register_tile(8, 8));
    // The conv is measured again and the book rewritten whole.
    engine::TuneOptions o;
    o.dir = dir.path();
    o.batch = 2;
    o.min_mflop = 0;
    engine::TuneReport r;
    engine::JitKernels bench;
    engine::tune_kernels({conv}, bench, o, r);
    CHECK(r.tuned == 1);
    CHECK(engine::ScheduleBook(dir.path(), id).size() == 2);
    // A book whose header names another CPU (a hash collision, a copied file) is not read.
    {
        std::ofstream f(book.path());
        f << "# cnnc schedules for: some other CPU\n" << conv.key() << "\tdefault\t1\t1\t3\tquick\n";
    }
    CHECK(engine::ScheduleBook(dir.path(), id).size() == 0);
    // Nor is one measured with other kernel builders (an older cnnc), or written before the
    // builders' hash was recorded: their defaults and knobs may have meant other kernels.
    for (const std::string second : {"# kernel builders: 0123456789abcdef\n", ""}) {
        {
            std::ofstream f(book.path());
            f << "# cnnc schedules for: " << id << "\n" << second << conv.key() << "\tdefault\t1\t1\t3\tquick\n";
        }
        CHECK(engine::ScheduleBook(dir.path(), id).size() == 0);
    }
    {
        std::ofstream f(book.path());
        f << "# cnnc schedules for: " << id << "\n# kernel builders: " << engine::builders_identity() << "\n"
          << conv.key() << "\tdefault\t1\t1\t3\tquick\n";
    }
    CHECK(engine::ScheduleBook(dir.path(), id).size() == 1);
    CHECK(engine::builders_identity().size() == 16);
}

namespace {
// Big enough that the second convolution's kernels are tuned (~40 MFLOP at batch 16), small enough
// to train in a second.
const char* kTunedModel = R"(
dataset bars {
    train = idx("train-images", "train-labels")
    rescale = 1/255
    labels = one_hot(2)
}
model wide_net {
    input(8, 8, 1)
    Conv2D(64, 3, padding = same, activation = relu)
    Conv2D(64, 3, activation = relu)
    Flatten()
    Dense(2, activation = softmax)
}
train wide_net on bars.train {
    optimizer = adam(learning_rate = 0.01)
    loss = categorical_crossentropy
    epochs = 1
    batch_size = 16
}
)";
}  // namespace

TEST_CASE("cnnc run --tune: measured on the first run, read on the next, a bad level is refused", "[tuning][cli]") {
    TempDir dir;
    fs::path d = dir.path();
    write_bars(d / "train-images", d / "train-labels", 64, 1);
    std::ofstream(d / "wide.cnn") << kTunedModel;
    const std::string env = "CNNC_CACHE_DIR='" + (d / "cache").string() + "'";

    CommandResult first = run_cnnc("run wide.cnn --tune quick", d.string(), env);
    INFO(first.output);
    REQUIRE(first.status == 0);
    CHECK_THAT(first.output, Catch::Contains("schedules: tuned 3 kernels for this CPU"));
    REQUIRE(fs::exists(d / "cache" / "schedules"));

    CommandResult second = run_cnnc("run wide.cnn", d.string(), env + " CNNC_TUNE=quick");
    INFO(second.output);
    REQUIRE(second.status == 0);
    CHECK(second.output.find("schedules: tuned") == std::string::npos);
    CHECK_THAT(second.output, Catch::Contains("from the cache"));

    // A cache that cannot be written: nothing measured (every run would pay it again), said once.
    std::ofstream(d / "cache-file") << "x";
    std::string model_only = kTunedModel;
    model_only = model_only.substr(0, model_only.find("train wide_net"));
    std::ofstream(d / "model_only.cnn") << model_only;
    CommandResult ro = run_cnnc("run model_only.cnn --tune quick", d.string(), "CNNC_CACHE_DIR='" + (d / "cache-file").string() + "'");
    INFO(ro.output);
    CHECK(ro.status == 0);
    CHECK_THAT(ro.output, Catch::Contains("schedules: not tuned, since"));

    CommandResult bad = run_cnnc("run wide.cnn --tune fast", d.string(), env);
    CHECK(bad.status != 0);
    CHECK_THAT(bad.output, Catch::Contains("--tune"));
    CommandResult bad_env = run_cnnc("run wide.cnn", d.string(), env + " CNNC_TUNE=fast");
    CHECK(bad_env.status == 1);
    CHECK_THAT(bad_env.output, Catch::Contains("CNNC_TUNE: 'fast' is not off, quick or full"));
}

TEST_CASE("cnnc build: the host variant carries this CPU's schedules and says so", "[tuning][cli][build]") {
    TempDir dir;
    fs::path d = dir.path();
    write_bars(d / "train-images", d / "train-labels", 64, 1);
    std::ofstream(d / "wide.cnn") << kTunedModel;
    const std::string env = "CNNC_CACHE_DIR='" + (d / "cache").string() + "'";

    CommandResult b = run_cnnc("build wide.cnn -o tuned --target host --tune quick", d.string(), env);
    INFO(b.output);
    REQUIRE(b.status == 0);
    CommandResult info = run_shell("cd '" + d.string() + "' && ./tuned info");
    INFO(info.output);
    CHECK_THAT(info.output, Catch::Contains("schedules: tuned on " + engine::cpu_identity()));
    CommandResult train = run_shell("cd '" + d.string() + "' && ./tuned train");
    INFO(train.output);
    CHECK(train.status == 0);

    CommandResult p = run_cnnc("build wide.cnn -o plain --target host --tune off", d.string(), env);
    REQUIRE(p.status == 0);
    CommandResult pinfo = run_shell("cd '" + d.string() + "' && ./plain info");
    CHECK_THAT(pinfo.output, Catch::Contains("schedules: the defaults for each target's registers (portable)"));
}
