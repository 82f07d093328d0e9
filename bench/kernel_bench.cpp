// cnnc_kernel_bench: one kernel, or several schedules of it, timed alone. Each argument is a
// kernel key as CNNC_PROFILE and the schedules file print it, optionally with schedule knobs
// (kernels/Schedule.h: Knobs) among its arguments:
//
//   cnnc_kernel_bench 'conv_fwd(ci=256,...,act=relu)' 'conv_fwd(ci=256,...,act=relu,s_vecs=4,s_other=7)'
//
// The buffers are the tuner's for that kernel (kernels/Tuning.h: tune_problem) at --batch, filled
// with the same pseudo-random values. The kernels run in turn, round after round, so a burst of
// load on a shared machine falls on all of them alike; each line gives the median and fastest call,
// GFLOP/s and the fraction of the FMA peak (measured here unless --peak gives it). Why: a whole
// model's benchmark (cnnc_bench) moves 10-20 % between runs on a shared machine, too much to see a
// schedule's few per cent; side by side in one process, the ratio between schedules holds.
// `--asm DIR` also writes each kernel's assembly (DIR/<n>.s, Halide's compile_to_assembly), to
// read the inner loop a schedule produced.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "Machine.h"
#include "kernels/Jit.h"
#include "kernels/KernelDef.h"
#include "kernels/Tuner.h"
#include "kernels/Tuning.h"

using namespace cnnc;
using namespace cnnc::engine;

namespace {

int usage() {
    std::fprintf(stderr, "usage: cnnc_kernel_bench [--batch N] [--rounds N] [--peak GFLOPS] [--asm DIR] KEY...\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    int batch = 32, rounds = 15;
    double peak = 0;
    std::string asm_dir;
    std::vector<KernelSpec> specs;
    try {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a == "--batch" && i + 1 < argc) batch = std::stoi(argv[++i]);
            else if (a == "--rounds" && i + 1 < argc) rounds = std::stoi(argv[++i]);
            else if (a == "--peak" && i + 1 < argc) peak = std::stod(argv[++i]);
            else if (a == "--asm" && i + 1 < argc) asm_dir = argv[++i];
            else if (!a.empty() && a[0] == '-') return usage();
            else specs.push_back(KernelSpec::parse(a));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cnnc_kernel_bench: %s\n", e.what());
        return 2;
    }
    if (specs.empty() || batch < 1 || rounds < 1) return usage();

    JitKernels cache;
    struct Run {
        KernelSpec spec;
        TuneProblem problem;
        std::shared_ptr<Kernel> kernel;
        std::vector<Buf> in, out;
        std::vector<double> times;
    };
    std::vector<Run> runs;
    for (const auto& s : specs) {
        // The buffers' shapes from the tuner, which reads the layer's arguments (Full: any family
        // it tunes at all).
        auto p = tune_problem(s, TuneRequest{batch, TuneLevel::Full, vector_unit(cache.target())});
        if (!p) {
            std::fprintf(stderr, "cnnc_kernel_bench: %s: not a family the tuner knows the buffers of\n", s.key().c_str());
            return 2;
        }
        Run r{s, *p, cache.get(fit_to_target(s, cache.target())), {}, {}, {}};
        uint32_t seed = 1;
        for (const auto& shape : r.problem.inputs) r.in.emplace_back(shape), fill_for_timing(r.in.back(), seed++);
        for (const auto& shape : r.problem.outputs) r.out.emplace_back(shape);
        r.kernel->run(r.in, r.out, r.problem.ints);  // warm-up (and the check that it runs)
        if (!asm_dir.empty()) {
            std::error_code ec;
            std::filesystem::create_directories(asm_dir, ec);  // (LLVM aborts on a path it cannot open)
            KernelDef d = build_kernel(fit_to_target(s, cache.target()));
            std::string path = asm_dir + "/" + std::to_string(runs.size()) + ".s";
            d.pipeline.compile_to_assembly(path, d.arguments(), "kernel", cache.target());
            std::printf("# %s: %s\n", path.c_str(), s.key().c_str());
        }
        runs.push_back(std::move(r));
    }
    if (peak <= 0) peak = bench::measure_fma_peak(2);
    for (int round = 0; round < rounds; ++round)
        for (auto& r : runs) {
            double t = bench::now();
            r.kernel->run(r.in, r.out, r.problem.ints);
            r.times.push_back(bench::now() - t);
        }
    std::printf("# %s; peak %.0f GFLOP/s; batch %d, %d rounds\n", bench::cpu_description().c_str(), peak, batch, rounds);
    std::printf("%10s %10s %8s %6s  %s\n", "median ms", "fastest", "GFLOP/s", "peak", "kernel");
    for (auto& r : runs) {
        double med = bench::median(r.times), best = *std::min_element(r.times.begin(), r.times.end());
        double gf = r.problem.flops / med / 1e9;
        std::printf("%10.3f %10.3f %8.1f %5.1f%%  %s\n", 1e3 * med, 1e3 * best, gf, 100 * gf / peak, r.spec.key().c_str());
    }
    return 0;
}
