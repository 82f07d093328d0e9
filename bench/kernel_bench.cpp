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
//
// `--autoschedule` adds, for each conv_fwd key, the same convolution written as a plain Halide
// algorithm (bias, relu or no activation, and a 2x2 max pooling where the key pools, without the
// pooling's index) scheduled by each of the autoschedulers Debian's Halide ships as plugins
// (Mullapudi2016, Li2018, Adams2019 with its built-in cost model and, unless HL_BEAM_SIZE says,
// a greedy search), timed in the same rounds: the
// baseline the engine issue asks cnnc's own schedules to be compared against. The plugins are
// looked for in $CNNC_HALIDE_PLUGINS, else Debian's /usr/lib/x86_64-linux-gnu/halide14.
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "Machine.h"
#include "kernels/Jit.h"
#include "kernels/KernelDef.h"
#include "kernels/Tuner.h"
#include "kernels/Tuning.h"
#include "layers/conv/Config.h"

using namespace cnnc;
using namespace cnnc::engine;

namespace {

int usage() {
    std::fprintf(stderr, "usage: cnnc_kernel_bench [--batch N] [--rounds N] [--peak GFLOPS] [--asm DIR] [--autoschedule] KEY...\n");
    return 2;
}

// Convolution `c` (a conv_fwd key) as a plain algorithm over the tuner's buffers, scheduled by
// autoscheduler `name` for 2 cores: a runner over `in` and `out` (their first output), or nullptr
// where the key is not one it can write (another activation, another pooling, a grouped layer).
std::function<void()> autoscheduled(const KernelSpec& s, const std::string& name, const Halide::Target& target,
                                    std::vector<Buf>& in, std::vector<Buf>& out) {
    using namespace Halide;
    const ConvCfg c = ConvCfg::from(s);
    if (s.name() != "conv_fwd" || c.groups != 1 || (c.act != "relu" && c.act != "linear") || (c.pool_w != 0 && (c.pool_w != 2 || c.pool_h != 2)))
        return nullptr;
    ImageParam x(Float(32), 4, "x"), w(Float(32), 4, "w"), b(Float(32), 1, "b");
    Var co("co"), ox("ox"), oy("oy"), n("n");
    RDom r(0, c.ci, 0, c.kw, 0, c.kh, "r");
    Func src = BoundaryConditions::constant_exterior(x, 0.f, {{0, c.ci}, {0, c.w}, {0, c.h}}), conv("conv"), act("act"), result("result");
    conv(co, ox, oy, n) = b(co);
    conv(co, ox, oy, n) += w(co, r.x, r.y, r.z) * src(r.x, ox * c.sx + r.y * c.dx - c.pl, oy * c.sy + r.z * c.dy - c.pt, n);
    act(co, ox, oy, n) = c.act == "relu" ? max(conv(co, ox, oy, n), 0.f) : conv(co, ox, oy, n);
    if (c.pool_w == 2)
        result(co, ox, oy, n) = max(max(act(co, 2 * ox, 2 * oy, n), act(co, 2 * ox + 1, 2 * oy, n)), max(act(co, 2 * ox, 2 * oy + 1, n), act(co, 2 * ox + 1, 2 * oy + 1, n)));
    else
        result(co, ox, oy, n) = act(co, ox, oy, n);
    const int batch = in[0].dim(3).extent();
    x.set_estimates({{0, c.ci}, {0, c.w}, {0, c.h}, {0, batch}});
    w.set_estimates({{0, c.co}, {0, c.ci}, {0, c.kw}, {0, c.kh}});
    b.set_estimates({{0, c.co}});
    result.set_estimates({{0, c.co}, {0, c.pooled_w()}, {0, c.pooled_h()}, {0, batch}});
    Pipeline p(result);
    p.auto_schedule(name, target, MachineParams(2, 32 << 20, 40));
    p.compile_jit(target);
    x.set(Halide::Buffer<float>(Buf(in[0]))), w.set(Halide::Buffer<float>(Buf(in[1]))), b.set(Halide::Buffer<float>(Buf(in[2])));  // (copies share the memory)
    Halide::Buffer<float> o{Buf(out[0])};
    return [p, o]() mutable { p.realize(Realization(o)); };
}

}  // namespace

int main(int argc, char** argv) {
    int batch = 32, rounds = 15;
    double peak = 0;
    std::string asm_dir;
    bool autoschedule = false;
    std::vector<KernelSpec> specs;
    try {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a == "--batch" && i + 1 < argc) batch = std::stoi(argv[++i]);
            else if (a == "--rounds" && i + 1 < argc) rounds = std::stoi(argv[++i]);
            else if (a == "--peak" && i + 1 < argc) peak = std::stod(argv[++i]);
            else if (a == "--asm" && i + 1 < argc) asm_dir = argv[++i];
            else if (a == "--autoschedule") autoschedule = true;
            else if (!a.empty() && a[0] == '-') return usage();
            else specs.push_back(KernelSpec::parse(a));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cnnc_kernel_bench: %s\n", e.what());
        return 2;
    }
    if (specs.empty() || batch < 1 || rounds < 1) return usage();

    JitKernels cache;
    // Adams2019's beam search takes minutes a convolution at its default beam of 32 (75 s a pass,
    // 5 passes, on a Zen 5); a greedy search (beam 1) unless HL_BEAM_SIZE says otherwise.
    if (autoschedule) setenv("HL_BEAM_SIZE", "1", 0);
    struct Run {
        std::string name;
        TuneProblem problem;
        std::function<void()> call;
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
        Run r{s.key(), *p, {}, {}, {}, {}};
        uint32_t seed = 1;
        for (const auto& shape : r.problem.inputs) r.in.emplace_back(shape), fill_for_timing(r.in.back(), seed++);
        for (const auto& shape : r.problem.outputs) r.out.emplace_back(shape);
        std::shared_ptr<Kernel> kernel = cache.get(fit_to_target(s, cache.target()));
        // (Copies of a Buf share its memory.)
        r.call = [kernel, in = r.in, out = r.out, ints = r.problem.ints] { kernel->run(in, out, ints); };
        if (!asm_dir.empty()) {
            std::error_code ec;
            std::filesystem::create_directories(asm_dir, ec);  // (LLVM aborts on a path it cannot open)
            KernelDef d = build_kernel(fit_to_target(s, cache.target()));
            std::string path = asm_dir + "/" + std::to_string(runs.size()) + ".s";
            d.pipeline.compile_to_assembly(path, d.arguments(), "kernel", cache.target());
            std::printf("# %s: %s\n", path.c_str(), s.key().c_str());
        }
        runs.push_back(std::move(r));
        if (autoschedule && Knobs::from(s) == Knobs{})  // (once a layer: its knobs do not change the algorithm)
            for (const char* a : {"Mullapudi2016", "Li2018", "Adams2019"}) {
                const char* dir = std::getenv("CNNC_HALIDE_PLUGINS");
                std::string file = a;
                for (char& ch : file) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                std::string lib = std::string(dir ? dir : "/usr/lib/x86_64-linux-gnu/halide14") + "/libautoschedule_" + file + ".so";
                Run t{std::string(a) + ": " + s.key(), *p, {}, {}, {}, {}};
                seed = 1;
                for (const auto& shape : t.problem.inputs) t.in.emplace_back(shape), fill_for_timing(t.in.back(), seed++);
                for (const auto& shape : t.problem.outputs) t.out.emplace_back(shape);
                try {
                    Halide::load_plugin(lib);
                    double t0 = bench::now();
                    t.call = autoscheduled(s, a, cache.target(), t.in, t.out);
                    if (t.call) std::printf("# %s: scheduled and compiled in %.1f s\n", t.name.c_str(), bench::now() - t0);
                    std::fflush(stdout);
                } catch (const std::exception& e) {
                    std::printf("# %s: not run (%s)\n", t.name.c_str(), e.what());
                }
                if (t.call) runs.push_back(std::move(t));
            }
    }
    for (auto& r : runs) r.call();  // warm-up (and the check that it runs)
    if (peak <= 0) peak = bench::measure_fma_peak(2);
    for (int round = 0; round < rounds; ++round)
        for (auto& r : runs) {
            double t = bench::now();
            r.call();
            r.times.push_back(bench::now() - t);
        }
    std::printf("# %s; peak %.0f GFLOP/s; batch %d, %d rounds\n", bench::cpu_description().c_str(), peak, batch, rounds);
    std::printf("%10s %10s %8s %6s  %s\n", "median ms", "fastest", "GFLOP/s", "peak", "kernel");
    for (auto& r : runs) {
        double med = bench::median(r.times), best = *std::min_element(r.times.begin(), r.times.end());
        double gf = r.problem.flops / med / 1e9;
        std::printf("%10.3f %10.3f %8.1f %5.1f%%  %s\n", 1e3 * med, 1e3 * best, gf, 100 * gf / peak, r.name.c_str());
    }
    return 0;
}
