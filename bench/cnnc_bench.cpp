// cnnc_bench: the engine's figures against the targets of the engine issue, on this machine.
//
//   cnnc_bench [options]            the benchmark: one line per figure, `name value unit`
//   cnnc_bench --parity DIR [--k K] the MNIST model's first K training steps, written for
//                                   bench/parity_torch.py to replay in PyTorch
//
// What is measured (bench/README.md says more):
//   - JIT compile seconds of the seed's MNIST model: training kernels (forward + backward, as
//     `cnnc run` compiles them), the extra inference kernels, and inference kernels alone;
//   - the MNIST training step at batch 64 (RMSprop, categorical cross-entropy fused with the
//     softmax as rt::Trainer does), median over --steps steps after --warmup, real shuffled MNIST
//     batches; the epoch (938 steps) is extrapolated from the median;
//   - inference images/s over the 10,000 test images at --infer-batch (1000, then 256 and 64; the
//     first is the headline figure);
//   - per-stage forward (and backward) times at batch 64, with GFLOP/s from the model's FLOP counts
//     (LayerNode.flops, per sample, × batch) and the fraction of the machine's peak;
//   - the seed's cats-vs-dogs model (180×180×3, batch 32, random input): training step, median of
//     --cd-steps after 2 warm-ups, and its per-stage times;
//   - inference of a conv + BatchNormalization network with the BN folded into the convolution
//     and without (bnfold_*);
//   - peak RSS (getrusage) after the MNIST part and at the end.
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>
#include <xmmintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sema/Written.h"
#include "data/Idx.h"
#include "frontend/Frontend.h"
#include "engine/Build.h"
#include "engine/KernelList.h"
#include "kernels/Aot.h"
#include "kernels/Jit.h"
#include "kernels/Tuner.h"
#include "train/Loss.h"
#include "train/Optimizer.h"
#include "train/Trainer.h"

#include "Machine.h"

namespace fs = std::filesystem;
using namespace cnnc;

namespace {

// The machine's FP32 peak, against which every "fraction of peak" is taken. It is MEASURED at
// start-up (fma_peak_gflops: 16 independent AVX-512 FMA chains per thread, or 12 AVX2 ones, best of 3, on --threads
// threads), because the machines differ: ../shared/design/HALIDE-NOTES.md describes Zen 5 (two
// 512-bit FMA pipes per core, ≈ 215 GFLOP/s per core, ≈ 430 on two), while a Zen 4 EPYC (family
// 25) executes a 512-bit FMA as two 256-bit halves, one per cycle: ≈ 117 GFLOP/s per core at
// 3.66 GHz, ≈ 234 on two. --peak G sets it by hand; without AVX2 + FMA (or with --no-fma-peak) the
// Zen 5 figure below is used.
constexpr double kPeakGflopsZen5 = 430.0;
double g_peak = kPeakGflopsZen5;
std::string g_peak_source = "constant (Zen 5)";
constexpr int64_t kMnistEpochSteps = 938;  // ceil(60000 / 64)

using bench::median;
using bench::now;

double mean(const std::vector<double>& v) { return v.empty() ? NAN : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); }
double percentile(std::vector<double> v, double q) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(q * double(v.size() - 1) + 0.5))];
}

double peak_rss_mb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}
using bench::LoadMeter;

// One figure per line: name value unit [note]. Same format as peer_torch.py, so bench/run can
// put them side by side.
void figure(const std::string& name, double value, const std::string& unit, const std::string& note = "") {
    std::string v = std::isnan(value) ? "nan" : fmt::format("{:.6g}", value);
    fmt::print("{} {} {}{}{}\n", name, v, unit, note.empty() ? "" : " # ", note);
    std::fflush(stdout);
}
void info(const std::string& s) {
    fmt::print("# {}\n", s);
    std::fflush(stdout);
}

bool g_pool_fusion = true;  // false: --no-pool-fusion

struct Options {
    std::string root = CNNC_ROOT;
    std::string mnist_dir;  // default: root/data/mnist
    int steps = 300, warmup = 20;
    std::vector<int> infer_batches = {1000, 256, 64};  // the first is the headline figure
    int infer_passes = 5;
    int stage_reps = 50, cd_stage_reps = 3;
    int cd_steps = 5, cd_warmup = 2;
    int rn_steps = 10, rn_warmup = 2;
    int app_steps = 5, app_warmup = 2;
    bool resnet = true, apps = true, depthwise = true;
    bool catsdogs = true, stages = true, fma_peak = true, epoch = false, only_fma = false;
    int threads = 2;
    double peak = 0;  // --peak: GFLOP/s for the fractions, instead of the measured one
    uint64_t seed = 1337;  // cnnc run's default seed
    std::string parity_dir;
    int parity_steps = 20;
    std::string tune = "quick";  // --tune: the kernels' schedules, as `cnnc run` chooses them (kernels/Tuner.h)
    std::string target;          // --target: a Halide target string instead of this CPU's (e.g. AVX2 on an AVX-512 CPU)
};

// The target every kernel is compiled for: this CPU's, or --target's.
Halide::Target g_target = engine::host_target();

[[noreturn]] void usage(int rc) {
    std::fputs(
        "usage: cnnc_bench [--root DIR] [--mnist DIR] [--steps N] [--warmup N] [--infer-batch N[,N...]]\n"
        "                  [--infer-passes N] [--stage-reps N] [--cd-steps N] [--no-catsdogs] [--no-stages] [--no-pool-fusion]\n"
        "                  [--rn-steps N] [--no-resnet] [--app-steps N] [--no-apps] [--no-depthwise]\n"
        "                  [--no-fma-peak] [--only-fma] [--peak GFLOPS] [--epoch] [--threads N] [--seed N]\n"
        "                  [--tune off|quick|full] [--target HALIDE-TARGET]\n"
        "       cnnc_bench --parity DIR [--k K] [--mnist DIR] [--seed N]\n",
        rc ? stderr : stdout);
    std::exit(rc);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        if (a == "--root") o.root = val();
        else if (a == "--mnist") o.mnist_dir = val();
        else if (a == "--steps") o.steps = std::stoi(val());
        else if (a == "--warmup") o.warmup = std::stoi(val());
        else if (a == "--infer-batch") {
            o.infer_batches.clear();
            std::string v = val();
            for (size_t p = 0; p < v.size();) {
                size_t q = v.find(',', p);
                o.infer_batches.push_back(std::stoi(v.substr(p, q == std::string::npos ? q : q - p)));
                p = q == std::string::npos ? v.size() : q + 1;
            }
            if (o.infer_batches.empty()) usage(2);
        }
        else if (a == "--only-fma") o.only_fma = true;
        else if (a == "--infer-passes") o.infer_passes = std::stoi(val());
        else if (a == "--stage-reps") o.stage_reps = std::stoi(val());
        else if (a == "--cd-steps") o.cd_steps = std::stoi(val());
        else if (a == "--no-catsdogs") o.catsdogs = false;
        else if (a == "--no-resnet") o.resnet = false;
        else if (a == "--no-depthwise") o.depthwise = false;
        else if (a == "--rn-steps") o.rn_steps = std::stoi(val());
        else if (a == "--no-apps") o.apps = false;
        else if (a == "--app-steps") o.app_steps = std::stoi(val());
        else if (a == "--no-stages") o.stages = false;
        else if (a == "--no-pool-fusion") g_pool_fusion = false;
        else if (a == "--no-fma-peak") o.fma_peak = false;
        else if (a == "--epoch") o.epoch = true;
        else if (a == "--threads") o.threads = std::stoi(val());
        else if (a == "--peak") o.peak = std::stod(val());
        else if (a == "--seed") o.seed = std::stoull(val());
        else if (a == "--tune") o.tune = val();
        else if (a == "--target") o.target = val();
        else if (a == "--parity") o.parity_dir = val();
        else if (a == "--k") o.parity_steps = std::stoi(val());
        else if (a == "-h" || a == "--help") usage(0);
        else {
            std::fprintf(stderr, "cnnc_bench: unknown argument '%s'\n", a.c_str());
            usage(2);
        }
    }
    if (o.mnist_dir.empty()) o.mnist_dir = o.root + "/data/mnist";
    return o;
}

// ---------------------------------------------------------------------------------------------
// Models and data

std::unique_ptr<Compilation> load_model_file(const std::string& path) {
    FrontendOptions fo;
    fo.import_dirs = default_import_dirs();
    auto c = compile_file(path, fo);
    if (!c->ok()) throw std::runtime_error(path + " does not check:\n" + c->diags.render(false));
    if (c->program.models.empty()) throw std::runtime_error(path + " declares no model");
    return c;
}

// Leaf layers by the stage name build_network gives them ("block/layer" inside blocks).
void leaf_layers(const std::vector<LayerNode>& layers, const std::string& prefix, std::map<std::string, const LayerNode*>& out) {
    for (const LayerNode& l : layers) {
        std::string path = prefix.empty() ? l.name : prefix + "/" + l.name;
        if (l.is_group()) leaf_layers(l.children, path, out);
        else out[path] = &l;
    }
}

rt::Dims with_batch(int64_t n, const rt::Dims& d) {
    rt::Dims s = {n};
    s.insert(s.end(), d.begin(), d.end());
    return s;
}

// One input and one target tensor (rt::Samples holds one per model input and output).
struct Split {
    rt::Tensor x, y;
    int64_t size() const { return x.shape().empty() ? 0 : x.shape()[0]; }
};

struct Mnist {
    Split train, test;
};

Split mnist_samples(const std::string& images, const std::string& labels) {
    rt::LabeledImages li = rt::load_idx(images, labels);
    Split s;
    s.x = std::move(li.images);
    // As `cnnc run` applies the dataset's `rescale = 1/255`: a float multiply by (float)(1/255).
    const float r = static_cast<float>(1.0 / 255.0);
    for (int64_t i = 0; i < s.x.size(); ++i) s.x[i] *= r;
    const int64_t n = s.size();
    s.y = rt::Tensor({n, 10});
    s.y.fill(0);
    for (int64_t i = 0; i < n; ++i) s.y[i * 10 + li.labels[static_cast<size_t>(i)]] = 1;
    return s;
}

Mnist load_mnist(const std::string& dir) {
    Mnist m;
    m.train = mnist_samples(dir + "/train-images-idx3-ubyte", dir + "/train-labels-idx1-ubyte");
    m.test = mnist_samples(dir + "/t10k-images-idx3-ubyte", dir + "/t10k-labels-idx1-ubyte");
    return m;
}

void gather(const Split& s, const std::vector<int64_t>& idx, rt::Tensor& bx, rt::Tensor& by) {
    const int64_t n = static_cast<int64_t>(idx.size());
    const int64_t xr = s.x.size() / s.size(), yr = s.y.size() / s.size();
    rt::Dims xs = s.x.shape(), ys = s.y.shape();
    xs[0] = n;
    ys[0] = n;
    bx.resize(xs);
    by.resize(ys);
    for (int64_t i = 0; i < n; ++i) {
        std::memcpy(bx.data() + i * xr, s.x.data() + idx[static_cast<size_t>(i)] * xr, sizeof(float) * static_cast<size_t>(xr));
        std::memcpy(by.data() + i * yr, s.y.data() + idx[static_cast<size_t>(i)] * yr, sizeof(float) * static_cast<size_t>(yr));
    }
}

// One training step exactly as rt::Trainer::fit takes it (less the metrics and progress line).
struct Stepper {
    rt::Network& net;
    std::unique_ptr<rt::Optimizer> opt_owner;
    rt::Optimizer& opt;
    rt::LossSpec loss;
    bool fused;
    std::vector<rt::Param*> params;
    rt::Tensor grad;
    uint64_t seed;
    int64_t step_no = 0;

    Stepper(rt::Network& n, const Model& m, const std::string& loss_name, uint64_t seed_)
        : net(n), opt_owner(make_optimizer({"rmsprop"})), opt(*opt_owner), loss(make_loss({loss_name})), seed(seed_) {
        fused = net.output_owns_activation() && rt::fuses_with(loss, m.output_activation());
        params = net.params();
    }
    // Seconds spent in each phase of every step, when `record` is set.
    bool record = false;
    std::vector<double> t_fwd, t_loss, t_bwd, t_opt;

    // Forward, loss and its gradient, backward; then the optimizer's update. Returns the loss.
    double step(const rt::View& x, const rt::View& y) {
        rt::StepInfo info{true, seed, step_no++};
        double a = now();
        rt::View out = net.forward(x, info);
        double b = now();
        grad.resize(out.shape);
        double l = rt::compute_loss(loss, out, y, grad.data(), fused);
        double c = now();
        net.backward(grad.view(), fused, info);
        double d = now();
        opt.step(params);
        if (record) {
            double e = now();
            t_fwd.push_back(b - a);
            t_loss.push_back(c - b);
            t_bwd.push_back(d - c);
            t_opt.push_back(e - d);
        }
        return l;
    }
};

// ---------------------------------------------------------------------------------------------
// Every network of the benchmark, built as `cnnc run` builds it; --no-pool-fusion plans them
// without Op::tiled_max_pooling's fusion, to measure what it gains (g_pool_fusion).
std::unique_ptr<rt::Network> network(const Model& m, engine::KernelCache& cache, uint64_t seed) {
    auto net = engine::build_network(m, cache, seed);
    net->set_pool_fusion(g_pool_fusion);
    return net;
}

// Per-stage timing: every Op run on buffers of our own, so each is timed alone.

struct StageTime {
    std::string name, type;
    double flops = 0;  // per batch, forward
    double fwd_ms = NAN, bwd_ms = NAN;
    bool bwd_dx = false, bwd_dw = false;
};

std::vector<StageTime> time_stages(rt::Network& net, const Model& m, const rt::View& x, bool fused, int reps, bool backward) {
    std::map<std::string, const LayerNode*> leaves;
    leaf_layers(m.layers, "", leaves);
    const auto& stages = net.stages();
    const int64_t n = x.shape[0];
    std::vector<rt::Tensor> acts(stages.size()), dys(stages.size()), dxs(stages.size());
    std::vector<rt::View> ins(stages.size()), outs(stages.size());
    rt::StepInfo info{true, 1, 0};
    rt::View cur = x;
    // A stage that does the pooling after it (Network::pooling_done_by) writes the pooling's
    // output, and is timed with it; the pooling stage itself runs nothing.
    std::vector<bool> pooled(stages.size(), false);
    for (size_t i = 0; i < stages.size(); ++i)
        if (net.pooling_done_by(i) >= 0) pooled[static_cast<size_t>(net.pooling_done_by(i))] = true;
    for (size_t i = 0; i < stages.size(); ++i) {
        ins[i] = cur;
        const int pool = net.pooling_done_by(i);
        if (stages[i].op->is_view() || pooled[i]) {
            outs[i] = cur.reshaped(with_batch(n, stages[i].out_shape));
        } else {
            acts[i].resize(with_batch(n, stages[pool >= 0 ? static_cast<size_t>(pool) : i].out_shape));
            outs[i] = acts[i].view();
            stages[i].op->forward(cur, outs[i], info);
        }
        cur = outs[i];
    }
    // The same rule as Network::prepare: dL/dx only where some trainable weight lies before.
    std::vector<bool> need_dx(stages.size(), false);
    bool trainable_before = false;
    for (size_t i = 0; i < stages.size(); ++i) {
        need_dx[i] = trainable_before;
        for (const auto& p : stages[i].op->params) trainable_before |= p.trainable;
    }
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1e-3f, 1e-3f);
    std::vector<StageTime> r;
    for (size_t i = 0; i < stages.size(); ++i) {
        const auto& st = stages[i];
        if (st.op->is_view() || pooled[i]) continue;
        StageTime t;
        t.name = st.name;
        auto it = leaves.find(st.name);
        if (it != leaves.end()) {
            t.type = it->second->type;
            t.flops = it->second->flops * double(n);
        }
        auto time_it = [&](const std::function<void()>& f) {
            for (int w = 0; w < std::max(2, reps / 10); ++w) f();
            std::vector<double> v;
            for (int k = 0; k < reps; ++k) {
                double t0 = now();
                f();
                v.push_back(now() - t0);
            }
            return 1e3 * median(v);
        };
        t.fwd_ms = time_it([&] { st.op->forward(ins[i], outs[i], info); });
        bool has_trainable = false;
        for (const auto& p : st.op->params) has_trainable |= p.trainable;
        if (backward && (need_dx[i] || has_trainable)) {
            dys[i].resize(outs[i].shape);
            for (int64_t k = 0; k < dys[i].size(); ++k) dys[i][k] = u(rng);
            rt::View dx;
            if (need_dx[i]) {
                dxs[i].resize(ins[i].shape);
                dx = dxs[i].view();
            }
            t.bwd_dx = need_dx[i];
            t.bwd_dw = has_trainable;
            bool logits = fused && i + 1 == stages.size();
            t.bwd_ms = time_it([&] { st.op->backward(ins[i], outs[i], dys[i].view(), need_dx[i] ? &dx : nullptr, logits, info); });
        }
        r.push_back(t);
    }
    return r;
}

void print_stages(const std::string& prefix, const std::vector<StageTime>& ts) {
    double fwd_total = 0, bwd_total = 0;
    for (const auto& t : ts) {
        fwd_total += t.fwd_ms;
        if (!std::isnan(t.bwd_ms)) bwd_total += t.bwd_ms;
        figure(prefix + "_fwd_ms." + t.name, t.fwd_ms, "ms", t.type);
        if (t.flops > 0) {
            double g = t.flops / (t.fwd_ms * 1e-3) / 1e9;
            figure(prefix + "_fwd_gflops." + t.name, g, "GFLOP/s", fmt::format("{:.1f} MFLOP", t.flops / 1e6));
            figure(prefix + "_fwd_peak_frac." + t.name, g / g_peak, "frac");
        }
        if (!std::isnan(t.bwd_ms)) {
            figure(prefix + "_bwd_ms." + t.name, t.bwd_ms, "ms", !t.bwd_dw ? "dx" : t.bwd_dx ? "dW and dx" : "dW only");
            // Conv/Dense backward: the weight gradient and the input gradient each take about the
            // forward's multiply-adds; that is the FLOP count used here (an estimate).
            if (t.flops > 0 && (t.type == "Conv2D" || t.type == "Conv1D" || t.type == "Dense"))
                figure(prefix + "_bwd_gflops." + t.name, t.flops * (t.bwd_dx ? 2 : 1) / (t.bwd_ms * 1e-3) / 1e9, "GFLOP/s",
                       "estimate: forward FLOPs x (1 + dx)");
        }
    }
    figure(prefix + "_fwd_stage_sum_ms", fwd_total, "ms");
    if (bwd_total > 0) figure(prefix + "_bwd_stage_sum_ms", bwd_total, "ms");
}

// A training step's FLOPs for a batch of n: the forward pass, and for every Conv/Dense layer the
// weight gradient and, where the network computes it, the input gradient (each as many FLOPs as
// the forward: the same multiply-adds). Network::prepare's rule: no dx before the first trainable
// weight, so the first convolution computes none. Pooling/activation backward: not counted.
double train_flops(rt::Network& net, const Model& m, int64_t n) {
    std::map<std::string, const LayerNode*> leaves;
    leaf_layers(m.layers, "", leaves);
    double total = m.flop_count() * double(n);
    bool trainable_before = false;
    for (const auto& st : net.stages()) {
        bool trainable = false;
        for (const auto& p : st.op->params) trainable |= p.trainable;
        auto it = leaves.find(st.name);
        if (it != leaves.end() && trainable) {
            const std::string& type = it->second->type;
            if (type == "Conv2D" || type == "Conv1D" || type == "Dense")
                total += it->second->flops * double(n) * (trainable_before ? 2 : 1);
        }
        trainable_before |= trainable;
    }
    return total;
}

// ---------------------------------------------------------------------------------------------
// The benchmark

// The schedules `cnnc run` would use for `m` at `batch` (tuned into the kernel cache's schedules
// file the first time, read from it afterwards), installed on `cache`; the tuning's cost and gain
// as figures `<prefix>_tune_*`.
void use_tuned_schedules(const Options& o, const Model& m, int64_t batch, engine::KernelCache& cache, const std::string& prefix) {
    engine::TuneOptions to;
    to.level = engine::parse_tune_level(o.tune);
    if (to.level == engine::TuneLevel::Off) return;
    to.batch = static_cast<int>(batch);
    to.dir = engine::ObjectCache::default_dir();
    to.target = g_target;
    engine::RecordingKernels rec;
    auto listed = network(m, rec, o.seed);
    listed->prepare(batch, true);
    engine::DiskKernels bench(to.dir, g_target);
    engine::TuneReport r;
    cache.use_schedules(engine::tune_kernels(rec.specs, bench, to, r));
    figure(prefix + "_tune_s", r.seconds, "s", r.describe());
    figure(prefix + "_tune_changed", r.changed, "kernels", fmt::format("of {} listed, {} measured now", rec.specs.size(), r.tuned));
    if (r.tuned > 0) figure(prefix + "_tune_gain", r.default_ms / r.best_ms, "x", "the measured kernels' summed times, default / chosen");
}

void bench_mnist(const Options& o) {
    info(fmt::format("cnnc engine, HL_NUM_THREADS={}, batch 64, RMSprop, categorical_crossentropy (softmax fused)",
                     std::getenv("HL_NUM_THREADS") ? std::getenv("HL_NUM_THREADS") : "(unset)"));
    double t0 = now();
    Mnist data = load_mnist(o.mnist_dir);
    figure("mnist_load_s", now() - t0, "s", "IDX files read and rescaled");

    auto comp = load_model_file(o.root + "/models/mnist.cnn");
    const Model& m = comp->program.models.front();
    figure("mnist_params", double(m.param_count()), "count");
    figure("mnist_fwd_mflop_per_sample", m.flop_count() / 1e6, "MFLOP");

    // Training kernels, as `cnnc run` compiles them: build (forward kernels) and prepare (backward).
    engine::JitKernels cache(g_target);
    use_tuned_schedules(o, m, 64, cache, "mnist");
    double w0 = now();
    auto net = network(m, cache, o.seed);
    net->prepare(64, true);
    double train_compile = cache.compile_seconds();
    figure("jit_compile_train_s", train_compile, "s", fmt::format("{} kernels, {:.2f} s wall", cache.compiled(), now() - w0));

    Stepper st(*net, m, "categorical_crossentropy", o.seed);
    // Real MNIST batches in a shuffled order (the same on every run).
    std::vector<int64_t> order(static_cast<size_t>(data.train.size()));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937_64(o.seed));
    rt::Tensor bx, by;
    const int64_t per_epoch = data.train.size() / 64;  // full batches only
    auto batch_at = [&](int64_t s) {
        int64_t b = s % per_epoch;
        std::vector<int64_t> idx(order.begin() + b * 64, order.begin() + (b + 1) * 64);
        gather(data.train, idx, bx, by);
    };
    for (int s = 0; s < o.warmup; ++s) {
        batch_at(s);
        st.step(bx.view(), by.view());
    }
    std::vector<double> times, losses;
    LoadMeter load;
    st.record = true;
    for (int s = 0; s < o.steps; ++s) {
        double a = now();
        batch_at(o.warmup + s);  // the batch copy counts: the Trainer does it too
        losses.push_back(st.step(bx.view(), by.view()));
        times.push_back(now() - a);
    }
    double own_util = load.own_util(), others = load.others();
    double step_med = median(times);
    figure("mnist_train_step_ms", 1e3 * step_med, "ms", fmt::format("median of {} steps after {} warm-up", o.steps, o.warmup));
    figure("mnist_train_step_mean_ms", 1e3 * mean(times), "ms");
    figure("mnist_train_step_p10_ms", 1e3 * percentile(times, 0.1), "ms");
    figure("mnist_train_step_p90_ms", 1e3 * percentile(times, 0.9), "ms");
    figure("mnist_epoch_s", step_med * double(kMnistEpochSteps), "s", "extrapolated: median step x 938");
    figure("mnist_step_forward_ms", 1e3 * median(st.t_fwd), "ms", "of the step: Network::forward");
    figure("mnist_step_loss_ms", 1e3 * median(st.t_loss), "ms", "of the step: compute_loss and its gradient");
    figure("mnist_step_backward_ms", 1e3 * median(st.t_bwd), "ms", "of the step: Network::backward");
    figure("mnist_step_optimizer_ms", 1e3 * median(st.t_opt), "ms", "of the step: Optimizer::step (RMSprop)");
    figure("mnist_train_cpu_util", own_util, "cores", "this process's CPU time / wall time over the timed steps");
    figure("mnist_train_other_load", others, "cores", "CPU used by other processes meanwhile (noise)");
    // Training FLOPs ≈ 3 × forward (forward, input gradient, weight gradient); an estimate.
    const double tf = train_flops(*net, m, 64);
    figure("mnist_train_mflop_per_step", tf / 1e6, "MFLOP", "forward + dW + dx where computed (no dx for the first conv)");
    figure("mnist_train_gflops", tf / step_med / 1e9, "GFLOP/s");
    figure("mnist_train_peak_frac", tf / step_med / 1e9 / g_peak, "frac");
    figure("mnist_train_floor_ms", 1e3 * tf / (g_peak * 1e9), "ms", "the step's FLOPs at 100% of peak");
    figure("mnist_epoch_floor_s", double(kMnistEpochSteps) * tf / (g_peak * 1e9), "s", "938 steps at 100% of peak");
    double l_first = mean(std::vector<double>(losses.begin(), losses.begin() + std::min<size_t>(20, losses.size())));
    double l_last = mean(std::vector<double>(losses.end() - std::min<size_t>(20, losses.size()), losses.end()));
    figure("mnist_train_loss_first20", l_first, "loss", "mean over the first 20 timed steps");
    figure("mnist_train_loss_last20", l_last, "loss", fmt::format("after {} steps", o.warmup + o.steps));

    // Whole forward pass at batch 64, and each stage alone.
    {
        batch_at(0);
        std::vector<double> v;
        for (int k = 0; k < std::max(10, o.stage_reps); ++k) {
            double a = now();
            net->forward(bx.view(), rt::StepInfo{false, o.seed, 0});
            v.push_back(now() - a);
        }
        double fwd = median(v);
        figure("mnist_fwd_ms", 1e3 * fwd, "ms", "whole forward pass, batch 64");
        figure("mnist_fwd_gflops", m.flop_count() * 64 / fwd / 1e9, "GFLOP/s");
        figure("mnist_fwd_peak_frac", m.flop_count() * 64 / fwd / 1e9 / g_peak, "frac");
        if (o.stages) print_stages("mnist", time_stages(*net, m, bx.view(), st.fused, o.stage_reps, true));
    }

    // Inference over the test set with the trained weights, as `cnnc run`'s evaluate does it:
    // the same network prepared for a larger batch (the forward kernels are batch-independent).
    double before = cache.compile_seconds();
    const int max_infer = *std::max_element(o.infer_batches.begin(), o.infer_batches.end());
    net->prepare(max_infer, false);
    const int64_t nt = data.test.size();
    double infer_extra = 0;
    for (size_t bi = 0; bi < o.infer_batches.size(); ++bi) {
        const int ib = o.infer_batches[bi];
        std::vector<double> passes;
        int64_t correct = 0;
        for (int p = -1; p < o.infer_passes; ++p) {  // pass -1: warm-up (and the compile, if any)
            double a = now();
            int64_t c = 0;
            for (int64_t b = 0; b < nt; b += ib) {
                int64_t e = std::min<int64_t>(nt, b + ib);
                rt::View xin = data.test.x.view().rows(b, e);
                rt::View out = net->forward(xin, rt::StepInfo{false, o.seed, 0});
                for (int64_t i = 0; i < e - b; ++i) {
                    const float* r = out.data + i * 10;
                    const float* t = data.test.y.data() + (b + i) * 10;
                    c += (std::max_element(r, r + 10) - r) == (std::max_element(t, t + 10) - t);
                }
            }
            if (p >= 0) passes.push_back(now() - a);
            correct = c;
        }
        if (bi == 0) {
            infer_extra = cache.compile_seconds() - before;
            figure("jit_compile_infer_extra_s", infer_extra, "s", "inference kernels not already compiled for training");
            figure("jit_compile_total_s", train_compile + infer_extra, "s", "training + inference, one cache, as cnnc run");
            figure("mnist_infer_img_per_s", double(nt) / median(passes), "img/s",
                   fmt::format("batch {}, median of {} passes over 10,000 test images", ib, o.infer_passes));
            figure("mnist_infer_batch", ib, "count");
            figure("mnist_infer_peak_frac", m.flop_count() * double(nt) / median(passes) / 1e9 / g_peak, "frac");
            figure("mnist_infer_ceiling_img_per_s", g_peak * 1e9 / m.flop_count(), "img/s", "the forward's FLOPs at 100% of peak");
            figure("mnist_test_acc", double(correct) / double(nt), "frac", fmt::format("after {} training steps", o.warmup + o.steps));
        } else {
            figure(fmt::format("mnist_infer_img_per_s.b{}", ib), double(nt) / median(passes), "img/s",
                   fmt::format("batch {}, median of {} passes", ib, o.infer_passes));
        }
    }
    figure("mnist_peak_rss_mb", peak_rss_mb(), "MB", "peak RSS after data, compile, training and inference");

    if (o.epoch) {
        // The user-level path: one full epoch through rt::Trainer (shuffled, partial last batch,
        // metrics and progress line), with fresh weights.
        auto net2 = network(m, cache, o.seed);
        net2->prepare(64, true);
        auto opt = make_optimizer({"rmsprop"});
        rt::FitConfig cfg;
        cfg.batch_size = 64;
        cfg.seed = o.seed;
        rt::OutputLoss head;
        head.loss = make_loss({"categorical_crossentropy"});
        head.activation = m.output_activation();
        head.metrics.push_back(resolve_metric("accuracy", *find_builtin(cnnc::losses(), "categorical_crossentropy"), 10));
        cfg.outputs = {head};
        rt::Samples train;
        train.x = {data.train.x};
        train.y = {data.train.y};
        cfg.out = stderr;
        rt::Trainer tr(*net2, *opt, cfg);
        double a = now();
        tr.fit(train, nullptr);
        figure("mnist_epoch_trainer_s", now() - a, "s", "one real epoch through rt::Trainer::fit");
    }

    // Inference kernels alone, in a cache of their own (what an inference-only program pays).
    {
        engine::JitKernels c2(g_target);
        auto n2 = network(m, c2, o.seed);
        n2->prepare(o.infer_batches[0], false);
        n2->forward(data.test.x.view().rows(0, o.infer_batches[0]), rt::StepInfo{false, o.seed, 0});
        figure("jit_compile_infer_s", c2.compile_seconds(), "s", "inference kernels alone, fresh cache");
    }
}

// Times training steps of a model file on a fixed random batch, as `cnnc run` takes them, and
// prints the `<prefix>_train_*` figures; returns the network for per-stage timing.
struct TrainBench {
    std::string prefix, model_file, loss;  // model_file: relative to the repository
    rt::Tensor x, y;
    int steps = 5, warmup = 2;
    std::string data_note;  // "random input"
};

void bench_train_step(const Options& o, const TrainBench& b, bool stages) {
    auto comp = load_model_file(o.root + "/" + b.model_file);
    const Model& m = comp->program.models.front();
    const int64_t n = b.x.shape()[0];
    figure(b.prefix + "_params", double(m.param_count()), "count");
    engine::JitKernels cache(g_target);
    use_tuned_schedules(o, m, n, cache, b.prefix);
    auto net = network(m, cache, o.seed);
    net->prepare(n, true);
    figure(b.prefix + "_jit_compile_s", cache.compile_seconds(), "s", fmt::format("{} kernels", cache.compiled()));
    Stepper st(*net, m, b.loss, o.seed);
    for (int s = 0; s < b.warmup; ++s) st.step(b.x.view(), b.y.view());
    std::vector<double> v;
    LoadMeter load;
    for (int s = 0; s < b.steps; ++s) {
        double a = now();
        st.step(b.x.view(), b.y.view());
        v.push_back(now() - a);
    }
    double med = median(v);
    double own_util = load.own_util(), others = load.others();
    figure(b.prefix + "_train_step_ms", 1e3 * med, "ms",
           fmt::format("batch {}, median of {} steps after {} warm-up, {}", n, b.steps, b.warmup, b.data_note));
    figure(b.prefix + "_train_cpu_util", own_util, "cores");
    figure(b.prefix + "_train_other_load", others, "cores", "CPU used by other processes meanwhile (noise)");
    const double tf = train_flops(*net, m, n);
    figure(b.prefix + "_train_mflop_per_step", tf / 1e6, "MFLOP", "forward + dW + dx where computed (no dx for the first conv)");
    figure(b.prefix + "_train_gflops", tf / med / 1e9, "GFLOP/s");
    figure(b.prefix + "_train_peak_frac", tf / med / 1e9 / g_peak, "frac");
    figure(b.prefix + "_train_floor_ms", 1e3 * tf / (g_peak * 1e9), "ms", "the step's FLOPs at 100% of peak");
    if (stages) print_stages(b.prefix, time_stages(*net, m, b.x.view(), st.fused, o.cd_stage_reps, true));
}

void bench_catsdogs(const Options& o) {
    TrainBench b{"catsdogs", "models/cats_vs_dogs.cnn", "binary_crossentropy", rt::Tensor({32, 180, 180, 3}), rt::Tensor({32, 1}),
                 o.cd_steps, o.cd_warmup, "random input"};
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> px(0.f, 255.f);  // the model rescales by 1/255 itself
    for (int64_t i = 0; i < b.x.size(); ++i) b.x[i] = px(rng);
    for (int64_t i = 0; i < b.y.size(); ++i) b.y[i] = float(rng() & 1);
    bench_train_step(o, b, o.stages);
}

// A 10-class classifier's training step on a random batch in [0, 1) with one-hot labels: ResNet-20
// (32x32x3, batch 64), and the keras.applications-shaped models of bench/models/ (the stdlib's
// MobileNetV2 and ResNet50 at a small input).
void bench_classifier(const Options& o, const std::string& prefix, const std::string& file, int64_t size, int64_t batch,
                      int steps, int warmup) {
    TrainBench b{prefix, file, "categorical_crossentropy", rt::Tensor({batch, size, size, 3}), rt::Tensor({batch, 10}),
                 steps, warmup, "random input"};
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> px(0.f, 1.f);
    for (int64_t i = 0; i < b.x.size(); ++i) b.x[i] = px(rng);
    b.y.fill(0);
    for (int64_t i = 0; i < batch; ++i) b.y[i * 10 + int64_t(rng() % 10)] = 1;
    bench_train_step(o, b, false);
}

// The memory bandwidth a kernel can reach: STREAM's triad a = b + s * c over three 64 MB arrays
// (far beyond the caches), the arrays split among `threads` threads; best of 5, bytes read and
// written per second.
double measure_bandwidth(int threads) {
    const size_t n = size_t(16) << 20;
    std::vector<float> a(n, 0.f), b(n, 1.f), c(n, 2.f);
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
        double t0 = now();
        std::vector<std::thread> th;
        for (int t = 0; t < threads; ++t)
            th.emplace_back([&, t] {
                const size_t lo = n * size_t(t) / size_t(threads), hi = n * size_t(t + 1) / size_t(threads);
                for (size_t i = lo; i < hi; ++i) a[i] = b[i] + 3.f * c[i];
            });
        for (auto& x : th) x.join();
        best = std::max(best, 3.0 * 4.0 * double(n) / (now() - t0));
    }
    if (a[n / 2] != 7.f) throw std::runtime_error("bandwidth triad: wrong result");
    return best;
}

// A depthwise convolution is memory-bound (9 multiply-adds per value read), so it is measured in
// bytes per second against the triad's bandwidth: MobileNetV2's 3x3 depthwise at 56x56x144
// (its second block's expansion), batch 16, stride 1, as a training step runs it. The forward
// reads the input and writes the output; the backward reads dy and x and writes dx (its kernel
// gradient and input gradient together), so both move about 2 or 3 tensors of 7.2 MB each.
void bench_depthwise(const Options& o) {
    const double bandwidth = measure_bandwidth(o.threads);
    figure("mem_bandwidth_gbs", bandwidth / 1e9, "GB/s", fmt::format("best of 5 triads over 3 x 64 MB, {} threads", o.threads));
    auto comp = compile_text("model dw { input(56, 56, 144) DepthwiseConv2D(3, padding = same, use_bias = false) }", "depthwise");
    if (!comp->ok()) throw std::runtime_error("the depthwise model does not check:\n" + comp->diags.render(false));
    const Model& m = comp->program.models.front();
    engine::JitKernels cache(g_target);
    auto net = network(m, cache, o.seed);
    rt::Op& op = *net->stages().at(0).op;
    op.prepare_backward(true);
    const int64_t n = 16;
    rt::Tensor x({n, 56, 56, 144}), y(x.shape()), dy(x.shape()), dx(x.shape());
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (int64_t i = 0; i < x.size(); ++i) x[i] = u(rng), dy[i] = u(rng);
    rt::StepInfo info{true, 1, 0};
    rt::View dxv = dx.view();
    auto time_it = [&](const std::function<void()>& f) {
        for (int w = 0; w < 3; ++w) f();
        std::vector<double> v;
        for (int k = 0; k < 20; ++k) {
            double t0 = now();
            f();
            v.push_back(now() - t0);
        }
        return median(v);
    };
    const double fwd = time_it([&] { op.forward(x.view(), y.view(), info); });
    const double bwd = time_it([&] { op.backward(x.view(), y.view(), dy.view(), &dxv, false, info); });
    const double tensor_bytes = 4.0 * double(x.size());
    figure("depthwise_fwd_ms", 1e3 * fwd, "ms", "DepthwiseConv2D(3, same) on 16 x 56x56x144");
    figure("depthwise_fwd_gbs", 2 * tensor_bytes / fwd / 1e9, "GB/s", "input read + output written");
    figure("depthwise_fwd_bandwidth_frac", 2 * tensor_bytes / fwd / bandwidth, "frac", "of mem_bandwidth_gbs");
    figure("depthwise_bwd_ms", 1e3 * bwd, "ms", "dW and dx");
    figure("depthwise_bwd_gbs", 3 * tensor_bytes / bwd / 1e9, "GB/s", "x and dy read, dx written");
    figure("depthwise_bwd_bandwidth_frac", 3 * tensor_bytes / bwd / bandwidth, "frac", "of mem_bandwidth_gbs");
}

// BatchNormalization folded into the convolution before it (compiler/src/lower/Fold.h): inference
// of a small conv + BN + ReLU network at batch 64, folded (a network prepared for inference)
// against unfolded (the same network prepared for training, run in inference mode), median of 20.
void bench_bn_fold(const Options& o) {
    auto c = compile_text("model bnfold {\n input(32, 32, 16)\n"
                          " Conv2D(32, 3, padding = same, use_bias = false)\n BatchNormalization()\n Activation(relu)\n"
                          " Conv2D(32, 3, padding = same, use_bias = false)\n BatchNormalization()\n Activation(relu)\n"
                          " GlobalAveragePooling2D()\n Dense(10)\n}\n", "bnfold.cnn", FrontendOptions{});
    if (!c->ok()) throw std::runtime_error("the BatchNormalization folding model does not check:\n" + c->diags.render(false));
    const Model& m = c->program.models.at(0);
    engine::JitKernels cache(g_target);
    const int64_t n = 64;
    rt::Tensor x({n, 32, 32, 16});
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (int64_t i = 0; i < x.size(); ++i) x[i] = u(rng);
    auto time_inference = [&](bool folded) {
        auto net = network(m, cache, o.seed);
        net->prepare(n, !folded);
        std::vector<double> ms;
        for (int r = 0; r < 23; ++r) {
            const double t0 = now();
            net->forward(x.view(), rt::StepInfo{});
            if (r >= 3) ms.push_back(1e3 * (now() - t0));
        }
        return median(ms);
    };
    const double plain = time_inference(false), folded = time_inference(true);
    figure("bnfold_infer_ms", folded, "ms", "conv+BN+relu x2 at 32x32x16, batch 64, BN folded");
    figure("bnfold_unfolded_infer_ms", plain, "ms", "the same, BN run as its own pass");
    figure("bnfold_speedup", plain / folded, "x");
}

// ---------------------------------------------------------------------------------------------
// Parity: K RMSprop steps of the MNIST model, shuffle off, everything written as .npy files.

void write_npy(const std::string& path, const void* data, const std::string& descr, size_t elem, const rt::Dims& shape) {
    std::string sh = "(";
    for (size_t i = 0; i < shape.size(); ++i) sh += std::to_string(shape[i]) + (shape.size() == 1 ? "," : i + 1 < shape.size() ? ", " : "");
    sh += ")";
    std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + sh + ", }";
    size_t total = 10 + header.size() + 1;  // magic(6) version(2) len(2) header '\n'
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    std::ofstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot write " + path);
    f.write("\x93NUMPY\x01\x00", 8);
    uint16_t len = static_cast<uint16_t>(header.size());
    unsigned char l2[2] = {static_cast<unsigned char>(len & 0xff), static_cast<unsigned char>(len >> 8)};
    f.write(reinterpret_cast<const char*>(l2), 2);
    f.write(header.data(), static_cast<std::streamsize>(header.size()));
    f.write(static_cast<const char*>(data), static_cast<std::streamsize>(elem * static_cast<size_t>(rt::product(shape))));
    if (!f) throw std::runtime_error("cannot write " + path);
}
void write_npy(const std::string& path, const rt::Tensor& t) { write_npy(path, t.data(), "<f4", 4, t.shape()); }

std::string file_name(const std::string& param) {
    std::string s = param;
    std::replace(s.begin(), s.end(), '/', '.');
    return s + ".npy";
}

int parity(const Options& o) {
    const int k = o.parity_steps, bs = 64;
    if (k < 1 || k > 937) throw std::runtime_error("--k must be between 1 and 937 (one epoch of full batches)");
    fs::create_directories(o.parity_dir + "/init");
    fs::create_directories(o.parity_dir + "/grad0");
    fs::create_directories(o.parity_dir + "/final");
    Mnist data = load_mnist(o.mnist_dir);
    auto comp = load_model_file(o.root + "/models/mnist.cnn");
    const Model& m = comp->program.models.front();
    engine::JitKernels cache(g_target);
    auto net = network(m, cache, o.seed);
    net->prepare(bs, true);
    Stepper st(*net, m, "categorical_crossentropy", o.seed);
    if (!st.fused) throw std::runtime_error("expected the softmax to fuse with the loss");

    std::ofstream man(o.parity_dir + "/manifest.txt");
    man << "# param file shape (Keras layouts: conv kernel (kh, kw, cin, cout), dense kernel (in, out))\n";
    for (rt::Param* p : st.params) {
        write_npy(o.parity_dir + "/init/" + file_name(p->name), p->value);
        man << p->name << ' ' << file_name(p->name) << ' ' << rt::dims_str(p->value.shape()) << '\n';
    }
    // Shuffle off: batch s is training samples [64 s, 64 s + 64).
    std::vector<int64_t> all(static_cast<size_t>(k * bs));
    std::iota(all.begin(), all.end(), 0);
    write_npy(o.parity_dir + "/indices.npy", all.data(), "<i8", 8, {k, bs});
    std::vector<double> losses;
    rt::Tensor bx, by;
    for (int s = 0; s < k; ++s) {
        std::vector<int64_t> idx(all.begin() + s * bs, all.begin() + (s + 1) * bs);
        gather(data.train, idx, bx, by);
        // Trainer::fit's step, spelled out so the first step's output and gradients can be saved.
        rt::StepInfo info{true, o.seed, s};
        rt::View out = net->forward(bx.view(), info);
        if (s == 0) {
            rt::Tensor o0(out.shape);
            std::copy(out.data, out.data + out.size(), o0.data());
            write_npy(o.parity_dir + "/out0.npy", o0);
        }
        st.grad.resize(out.shape);
        double l = rt::compute_loss(st.loss, out, by.view(), st.grad.data(), st.fused);
        net->backward(st.grad.view(), st.fused, info);
        if (s == 0)
            for (rt::Param* p : st.params) write_npy(o.parity_dir + "/grad0/" + file_name(p->name), p->grad);
        st.opt.step(st.params);
        losses.push_back(l);
    }
    write_npy(o.parity_dir + "/loss.npy", losses.data(), "<f8", 8, {k});
    for (rt::Param* p : st.params) write_npy(o.parity_dir + "/final/" + file_name(p->name), p->value);
    std::ofstream cfg(o.parity_dir + "/config.txt");
    cfg << "steps " << k << "\nbatch " << bs << "\nseed " << o.seed << "\noptimizer rmsprop learning_rate 0.001 rho 0.9 epsilon 1e-07\n"
        << "loss categorical_crossentropy (softmax fused)\nrescale float32(1/255)\nmnist " << fs::absolute(o.mnist_dir).string() << "\n";
    for (int s = 0; s < k; ++s) fmt::print("parity_loss.{} {:.9g}\n", s, losses[static_cast<size_t>(s)]);
    fmt::print("wrote {} steps to {}\n", k, o.parity_dir);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Flush denormals to zero, as cnnc's main does; Halide's pool threads inherit it.
    _mm_setcsr(_mm_getcsr() | 0x8040);
    Options o = parse(argc, argv);
    // Halide's JIT reads HL_NUM_THREADS when its pool starts (the first kernel run).
    if (!std::getenv("HL_NUM_THREADS")) setenv("HL_NUM_THREADS", std::to_string(o.threads).c_str(), 1);
    if (!o.target.empty()) {
        g_target = Halide::Target(o.target);
        info("kernels compiled for " + g_target.to_string() + " (--target), not this CPU's " + engine::host_target().to_string());
    }
    try {
        if (!o.parity_dir.empty()) return parity(o);
        if (o.only_fma) {
            figure("fma_peak_1thread_gflops", bench::measure_fma_peak(1), "GFLOP/s");
            figure("fma_peak_gflops", bench::measure_fma_peak(o.threads), "GFLOP/s", fmt::format("{} threads", o.threads));
            return 0;
        }
        double t0 = now();
        info(bench::cpu_description());
        // The peak first, while nothing of ours runs.
        if (o.fma_peak) {
            double p1 = bench::measure_fma_peak(1), pn = bench::measure_fma_peak(o.threads);
            const std::string how = bench::fma_peak_method().empty() ? "no AVX2 + FMA on this CPU" : "best of 3 x " + bench::fma_peak_method();
            figure("fma_peak_1thread_gflops", p1, "GFLOP/s", how + " on 1 thread");
            figure("fma_peak_gflops", pn, "GFLOP/s", fmt::format("{} on {} threads", how, o.threads));
            if (!std::isnan(pn) && o.peak <= 0) {
                g_peak = pn;
                g_peak_source = "measured (fma_peak_gflops)";
            }
        }
        if (o.peak > 0) {
            g_peak = o.peak;
            g_peak_source = "--peak";
        }
        figure("peak_gflops_used", g_peak, "GFLOP/s", "for every fraction of peak: " + g_peak_source);
        bench_mnist(o);
        if (o.catsdogs) bench_catsdogs(o);
        if (o.resnet) bench_classifier(o, "resnet20", "models/resnet20_cifar.cnn", 32, 64, o.rn_steps, o.rn_warmup);
        if (o.apps) {
            bench_classifier(o, "mobilenetv2", "bench/models/mobilenet_v2_96.cnn", 96, 32, o.app_steps, o.app_warmup);
            bench_classifier(o, "resnet50", "bench/models/resnet50_64.cnn", 64, 16, o.app_steps, o.app_warmup);
        }
        if (o.depthwise) bench_depthwise(o);
        bench_bn_fold(o);
        // Once more at the end: a virtual machine's clock can move during a run (a Zen 3 VM measured
        // 120 and 174 GFLOP/s an hour apart), and every fraction above used the figure of the start.
        if (o.fma_peak) {
            double end = bench::measure_fma_peak(o.threads), start = g_peak_source == "measured (fma_peak_gflops)" ? g_peak : NAN;
            figure("fma_peak_end_gflops", end, "GFLOP/s", "measured again after the benchmarks");
            if (std::isfinite(end) && std::isfinite(start) && std::abs(end / start - 1) > 0.1)
                info(fmt::format("the FMA peak moved during this run ({:.0f} -> {:.0f} GFLOP/s): the fractions of peak are off by as much", start, end));
        }
        figure("peak_rss_mb", peak_rss_mb(), "MB", "whole process");
        figure("bench_wall_s", now() - t0, "s");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cnnc_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
