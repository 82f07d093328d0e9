// onednn_peer: the second peer of bench/ (issue 16). Times oneDNN (Debian's libdnnl-dev, 2.x) on the
// convolution and Dense layers cnnc_bench times, so each of cnnc's layers has a best-library figure
// measured on the same machine in the same run:
//
//   onednn_peer [--threads 2] [--peak GFLOPS] [--budget S] [--no-catsdogs]   the figures
//   onednn_peer --check                       oneDNN against naive loops on tiny shapes (a ctest)
//
// Layers: the MNIST training step's (batch 64), the cats-vs-dogs step's (batch 32), MNIST inference
// at batch 64 and 1000. Directions: forward (with the layer's ReLU as a post-op, as cnnc fuses it),
// the ReLU's backward, the input gradient (dx, where the network needs it) and the weight and bias
// gradient (dw). FP32, --threads OpenMP threads. Variants, each timed alone:
//   keras  every tensor in the layout cnnc holds it in: activations NHWC, conv kernels (kh, kw, ci, co),
//          Dense kernels (in, out): what a kernel pays when it must work on Keras' layouts;
//   any    every tensor in the layout oneDNN prefers (format_tag::any, channel-blocked): its best case,
//          conversions between layers not counted;
//   wino   the 3x3 convolutions with oneDNN's Winograd algorithm (blocked layouts), where offered.
// One figure per line, `name value unit # note`, as cnnc_bench prints them (bench/run joins them).
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "Machine.h"

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = memory::format_tag;
using cnnc::bench::median;
using cnnc::bench::now;

// A convolution (valid padding, stride 1, square kernel k) or, with k == 0, a Dense layer on a
// flat input of h*w*ci features (h = w = 1 for a plain vector).
struct Layer {
    std::string name;
    int64_t n, h, w, ci, co, k;
    bool relu;  // activation = relu (fused into the forward, as cnnc's stage does)
    bool dx;    // the network needs the input gradient (every trainable layer but the first)
    bool conv() const { return k > 0; }
    int64_t oh() const { return conv() ? h - k + 1 : 1; }
    int64_t ow() const { return conv() ? w - k + 1 : 1; }
    // Multiply-adds × 2 of the forward; dx and dw each take as many.
    double flops() const { return 2.0 * double(n * oh() * ow() * co * ci * (conv() ? k * k : h * w)); }
};

enum class Variant { keras, any, wino };
const char* variant_name(Variant v) { return v == Variant::keras ? "keras" : v == Variant::any ? "any" : "wino"; }

// The tensors of a layer by oneDNN argument, in Keras' layouts (the data's side of every reorder).
memory::desc keras_desc(const Layer& l, int arg) {
    const memory::data_type f32 = memory::data_type::f32;
    switch (arg) {
        case DNNL_ARG_SRC:
        case DNNL_ARG_DIFF_SRC:
            return l.conv() ? memory::desc({l.n, l.ci, l.h, l.w}, f32, tag::nhwc) : memory::desc({l.n, l.h * l.w * l.ci}, f32, tag::nc);
        case DNNL_ARG_WEIGHTS:
        case DNNL_ARG_DIFF_WEIGHTS:
            return l.conv() ? memory::desc({l.co, l.ci, l.k, l.k}, f32, tag::hwio) : memory::desc({l.co, l.h * l.w * l.ci}, f32, tag::io);
        case DNNL_ARG_BIAS:
        case DNNL_ARG_DIFF_BIAS: return memory::desc({l.co}, f32, tag::a);
        default:  // DST, DIFF_DST
            return l.conv() ? memory::desc({l.n, l.co, l.oh(), l.ow()}, f32, tag::nhwc) : memory::desc({l.n, l.co}, f32, tag::nc);
    }
}

// The descriptors a primitive is created with: Keras' layouts, or format_tag::any.
memory::desc layout(const Layer& l, int arg, Variant v) {
    if (v == Variant::keras || arg == DNNL_ARG_BIAS || arg == DNNL_ARG_DIFF_BIAS) return keras_desc(l, arg);
    return memory::desc(keras_desc(l, arg).dims(), memory::data_type::f32, tag::any);
}

struct Engine {
    dnnl::engine eng{dnnl::engine::kind::cpu, 0};
    dnnl::stream s{eng};
};

// One primitive with a memory of its own layout for each argument; inputs and outputs pass
// through reorders from and to Keras' layouts, outside the timed execution.
struct Prim {
    Engine* e = nullptr;
    dnnl::primitive p;
    std::string impl;
    std::unordered_map<int, memory> args;          // as primitive::execute takes them
    std::unordered_map<int, memory::desc> keras;  // each argument's Keras-layout descriptor
    void run() {
        p.execute(e->s, args);
        e->s.wait();
    }
    // The argument's data, given in Keras' layout.
    void put(int arg, const std::vector<float>& keras) {
        memory user(this->keras.at(arg), e->eng, const_cast<float*>(keras.data()));
        dnnl::reorder(user, args.at(arg)).execute(e->s, user, args.at(arg));
        e->s.wait();
    }
    std::vector<float> get(int arg) {
        const memory::desc& d = keras.at(arg);
        std::vector<float> out(d.get_size() / sizeof(float));
        memory user(d, e->eng, out.data());
        dnnl::reorder(args.at(arg), user).execute(e->s, args.at(arg), user);
        e->s.wait();
        return out;
    }
};

// `on_output`: every argument has the layer output's shape (the ReLU's backward).
template <class Primitive>
Prim make_prim(Engine& e, const Layer& l, const typename Primitive::primitive_desc& pd, std::initializer_list<int> arg_ids,
               bool on_output = false) {
    Prim p;
    p.e = &e;
    p.p = Primitive(pd);
    p.impl = pd.impl_info_str();
    for (int a : arg_ids) {
        p.args.emplace(a, memory(pd.query_md(dnnl::query::exec_arg_md, a), e.eng));
        p.keras.emplace(a, keras_desc(l, on_output ? DNNL_ARG_DST : a));
    }
    return p;
}

// A layer's primitives in one variant: forward; for training also the ReLU's backward, dx (where
// needed) and dw. Throws dnnl::error where oneDNN offers no implementation (Winograd on a shape
// it does not cover).
struct LayerPrims {
    Prim fwd, relu_bwd, dx, dw;
    bool has_relu_bwd = false, has_dx = false, has_dw = false;
};

LayerPrims make_layer(Engine& e, const Layer& l, Variant v, bool training) {
    const auto prop = training ? prop_kind::forward_training : prop_kind::forward_inference;
    const algorithm alg = v == Variant::wino ? algorithm::convolution_winograd : algorithm::convolution_direct;
    auto d = [&](int arg) { return layout(l, arg, v); };
    dnnl::primitive_attr attr;
    if (l.relu) {
        dnnl::post_ops po;
        po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
        attr.set_post_ops(po);
    }
    LayerPrims r;
    const memory::dims one = {1, 1}, zero = {0, 0};
    memory::desc dst_md;
    if (l.conv()) {
        dnnl::convolution_forward::primitive_desc fpd(
            {prop, alg, d(DNNL_ARG_SRC), d(DNNL_ARG_WEIGHTS), d(DNNL_ARG_BIAS), d(DNNL_ARG_DST), one, zero, zero}, attr, e.eng);
        r.fwd = make_prim<dnnl::convolution_forward>(e, l, fpd, {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST});
        dst_md = fpd.dst_desc();
        if (training) {
            dnnl::convolution_forward::primitive_desc hint(
                {prop, alg, d(DNNL_ARG_SRC), d(DNNL_ARG_WEIGHTS), d(DNNL_ARG_BIAS), d(DNNL_ARG_DST), one, zero, zero}, e.eng);
            if (l.dx) {
                dnnl::convolution_backward_data::primitive_desc pd(
                    {alg, d(DNNL_ARG_DIFF_SRC), d(DNNL_ARG_WEIGHTS), d(DNNL_ARG_DIFF_DST), one, zero, zero}, e.eng, hint);
                r.dx = make_prim<dnnl::convolution_backward_data>(e, l, pd, {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC});
                r.has_dx = true;
            }
            dnnl::convolution_backward_weights::primitive_desc pd(
                {alg, d(DNNL_ARG_SRC), d(DNNL_ARG_DIFF_WEIGHTS), d(DNNL_ARG_DIFF_BIAS), d(DNNL_ARG_DIFF_DST), one, zero, zero}, e.eng, hint);
            r.dw = make_prim<dnnl::convolution_backward_weights>(e, l, pd, {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_BIAS});
            r.has_dw = true;
        }
    } else {
        dnnl::inner_product_forward::primitive_desc fpd({prop, d(DNNL_ARG_SRC), d(DNNL_ARG_WEIGHTS), d(DNNL_ARG_BIAS), d(DNNL_ARG_DST)},
                                                        attr, e.eng);
        r.fwd = make_prim<dnnl::inner_product_forward>(e, l, fpd, {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST});
        dst_md = fpd.dst_desc();
        if (training) {
            dnnl::inner_product_forward::primitive_desc hint({prop, d(DNNL_ARG_SRC), d(DNNL_ARG_WEIGHTS), d(DNNL_ARG_BIAS), d(DNNL_ARG_DST)},
                                                             e.eng);
            if (l.dx) {
                dnnl::inner_product_backward_data::primitive_desc pd({d(DNNL_ARG_DIFF_SRC), d(DNNL_ARG_WEIGHTS), d(DNNL_ARG_DIFF_DST)}, e.eng, hint);
                r.dx = make_prim<dnnl::inner_product_backward_data>(e, l, pd, {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC});
                r.has_dx = true;
            }
            dnnl::inner_product_backward_weights::primitive_desc pd(
                {d(DNNL_ARG_SRC), d(DNNL_ARG_DIFF_WEIGHTS), d(DNNL_ARG_DIFF_BIAS), d(DNNL_ARG_DIFF_DST)}, e.eng, hint);
            r.dw = make_prim<dnnl::inner_product_backward_weights>(e, l, pd, {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_BIAS});
            r.has_dw = true;
        }
    }
    if (training && l.relu) {
        // dy × (y > 0) on the forward's output, in the forward's layout.
        const auto relu = algorithm::eltwise_relu_use_dst_for_bwd;
        dnnl::eltwise_forward::primitive_desc hint({prop_kind::forward_training, relu, dst_md, 0.f, 0.f}, e.eng);
        dnnl::eltwise_backward::primitive_desc pd({relu, dst_md, dst_md, 0.f, 0.f}, e.eng, hint);
        r.relu_bwd = make_prim<dnnl::eltwise_backward>(e, l, pd, {DNNL_ARG_DST, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC}, true);
        r.has_relu_bwd = true;
    }
    return r;
}

std::vector<float> random_values(size_t n, float lo, float hi, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
}
std::vector<float> random_for(const Layer& l, int arg, float lo, float hi, uint32_t seed) {
    return random_values(keras_desc(l, arg).get_size() / sizeof(float), lo, hi, seed);
}

// Every input of every primitive filled, through the reorders: x in [0, 1), kernels and biases
// small, dy in ±1e-3 (as cnnc_bench's stage timing).
void fill_inputs(LayerPrims& p, const Layer& l) {
    const auto x = random_for(l, DNNL_ARG_SRC, 0.f, 1.f, 1), w = random_for(l, DNNL_ARG_WEIGHTS, -0.1f, 0.1f, 2),
               b = random_for(l, DNNL_ARG_BIAS, -0.1f, 0.1f, 3), dy = random_for(l, DNNL_ARG_DST, -1e-3f, 1e-3f, 4);
    p.fwd.put(DNNL_ARG_SRC, x);
    p.fwd.put(DNNL_ARG_WEIGHTS, w);
    p.fwd.put(DNNL_ARG_BIAS, b);
    if (p.has_relu_bwd) {
        p.fwd.run();
        p.relu_bwd.put(DNNL_ARG_DST, p.fwd.get(DNNL_ARG_DST));
        p.relu_bwd.put(DNNL_ARG_DIFF_DST, dy);
    }
    if (p.has_dx) {
        p.dx.put(DNNL_ARG_DIFF_DST, dy);
        p.dx.put(DNNL_ARG_WEIGHTS, w);
    }
    if (p.has_dw) {
        p.dw.put(DNNL_ARG_SRC, x);
        p.dw.put(DNNL_ARG_DIFF_DST, dy);
    }
}

// ---------------------------------------------------------------------------------------------
// The figures

struct Options {
    int threads = 2;
    double peak = 0;      // GFLOP/s for the fractions; 0: measured as cnnc_bench does
    double budget = 0.3;  // seconds of repetitions per timing (at least 5, at most 200)
    bool catsdogs = true;
    bool check = false;
};

double g_peak = NAN;

void figure(const std::string& name, double value, const std::string& unit, const std::string& note = "") {
    std::printf("%s %.6g %s%s%s\n", name.c_str(), value, unit.c_str(), note.empty() ? "" : " # ", note.c_str());
    std::fflush(stdout);
}

// Median seconds of one execution: 2 warm-up runs, then repetitions for about `budget` seconds.
double time_prim(Prim& p, double budget) {
    p.run();
    p.run();
    std::vector<double> v;
    const double start = now();
    while (v.size() < 5 || (v.size() < 200 && now() - start < budget)) {
        const double t0 = now();
        p.run();
        v.push_back(now() - t0);
    }
    return median(v);
}

// Times every primitive of one layer in one variant, printed as onednn_ms.MODEL.LAYER.DIRECTION.VARIANT;
// returns their sum in seconds, NaN where oneDNN offers no implementation of the variant.
double time_layer(Engine& e, const Options& o, const std::string& model, const Layer& l, Variant v, bool training) {
    LayerPrims p;
    try {
        p = make_layer(e, l, v, training);
    } catch (const dnnl::error& err) {
        std::printf("# %s.%s.%s: not offered by oneDNN (%s)\n", model.c_str(), l.name.c_str(), variant_name(v), err.what());
        return NAN;
    }
    fill_inputs(p, l);
    double total = 0;
    auto one = [&](Prim& prim, const char* dir, double flops) {
        const double s = time_prim(prim, o.budget);
        total += s;
        char note[512];
        if (flops > 0)
            std::snprintf(note, sizeof note, "%s; %.1f MFLOP, %.1f GFLOP/s, %.1f%% of peak", prim.impl.c_str(), flops / 1e6,
                          flops / s / 1e9, 100 * flops / s / 1e9 / g_peak);
        else
            std::snprintf(note, sizeof note, "%s", prim.impl.c_str());
        figure("onednn_ms." + model + "." + l.name + "." + dir + "." + variant_name(v), 1e3 * s, "ms", note);
    };
    one(p.fwd, "fwd", l.flops());
    if (p.has_relu_bwd) one(p.relu_bwd, "relu_bwd", 0);
    if (p.has_dx) one(p.dx, "dx", l.flops());
    if (p.has_dw) one(p.dw, "dw", l.flops());
    return total;
}

// Every variant of every layer of one model; then each variant's total over the layers. The
// Winograd total takes the `any` time of the layers it does not cover (Dense; non-3x3 convolutions).
void time_model(Engine& e, const Options& o, const std::string& model, const std::vector<Layer>& layers, bool training) {
    const cnnc::bench::LoadMeter load;
    double flops = 0;
    for (const Layer& l : layers) {
        figure("onednn_mflop." + model + "." + l.name, l.flops() / 1e6, "MFLOP", "forward; dx and dw each as many");
        flops += l.flops() * (training ? 2 + l.dx : 1);
    }
    std::map<Variant, std::vector<double>> t;  // per layer; NaN: not offered, or not a 3x3 convolution for Winograd
    for (Variant v : {Variant::keras, Variant::any, Variant::wino})
        for (const Layer& l : layers) t[v].push_back(v != Variant::wino || l.k == 3 ? time_layer(e, o, model, l, v, training) : NAN);
    const char* what = training ? "sum over the layers: forward, ReLU backward, dx where needed, dw" : "sum over the layers: forward";
    for (Variant v : {Variant::keras, Variant::any, Variant::wino}) {
        double s = 0;  // Winograd's total takes the `any` time of the layers it does not cover
        for (size_t i = 0; i < layers.size(); ++i) s += v == Variant::wino && layers[i].k != 3 ? t[Variant::any][i] : t[v][i];
        if (std::isnan(s)) continue;
        figure("onednn_total_ms." + model + "." + variant_name(v), 1e3 * s, "ms", what);
        figure("onednn_total_peak_frac." + model + "." + variant_name(v), flops / s / 1e9 / g_peak, "frac",
               v == Variant::wino ? "direct convolution's FLOPs: Winograd does fewer multiplies" : "");
    }
    figure("onednn_other_load." + model, load.others(), "cores", "CPU used by other processes meanwhile (noise)");
}

std::vector<Layer> mnist_layers(int64_t n, bool training) {
    // models/mnist.cnn: 28x28x1 → conv 32 → pool → conv 64 → pool → conv 64 → flatten 576 → Dense 64 → Dense 10.
    return {{"conv2d", n, 28, 28, 1, 32, 3, true, false},
            {"conv2d_1", n, 13, 13, 32, 64, 3, true, training},
            {"conv2d_2", n, 5, 5, 64, 64, 3, true, training},
            {"dense", n, 3, 3, 64, 64, 0, true, training},
            {"dense_1", n, 1, 1, 64, 10, 0, false, training}};  // the softmax: fused with the loss
}

std::vector<Layer> catsdogs_layers(int64_t n) {
    // models/cats_vs_dogs.cnn: 180x180x3 → conv 32 → pool → conv 64 → pool → conv 128 → pool →
    // conv 256 → pool → conv 256 → flatten 12544 → Dense 1 (the sigmoid: fused with the loss).
    return {{"conv2d", n, 180, 180, 3, 32, 3, true, false},   {"conv2d_1", n, 89, 89, 32, 64, 3, true, true},
            {"conv2d_2", n, 43, 43, 64, 128, 3, true, true},  {"conv2d_3", n, 20, 20, 128, 256, 3, true, true},
            {"conv2d_4", n, 9, 9, 256, 256, 3, true, true},   {"dense", n, 7, 7, 256, 1, 0, false, true}};
}

int run_figures(const Options& o) {
    const double t0 = now();
    std::printf("# %s\n", cnnc::bench::cpu_description().c_str());
    const dnnl_version_t* ver = dnnl_version();
    std::printf("# oneDNN %d.%d.%d (%s), %d OpenMP threads, FP32\n", ver->major, ver->minor, ver->patch, ver->hash, omp_get_max_threads());
    if (o.peak > 0) {
        g_peak = o.peak;
    } else {
        g_peak = cnnc::bench::measure_fma_peak(o.threads);
        figure("fma_peak_gflops", g_peak, "GFLOP/s", "as cnnc_bench measures it");
    }
    figure("onednn_peak_gflops_used", g_peak, "GFLOP/s", o.peak > 0 ? "--peak" : "measured");
    Engine e;
    time_model(e, o, "mnist", mnist_layers(64, true), true);
    if (o.catsdogs) time_model(e, o, "catsdogs", catsdogs_layers(32), true);
    time_model(e, o, "mnist_infer_b64", mnist_layers(64, false), false);
    time_model(e, o, "mnist_infer_b1000", mnist_layers(1000, false), false);
    figure("onednn_wall_s", now() - t0, "s");
    return 0;
}

// ---------------------------------------------------------------------------------------------
// --check: every primitive of every variant on tiny shapes against naive loops over Keras' layouts.

struct Naive {
    std::vector<float> y, dy_relu, dx, dw, db;
};

// The layer's definition written out: y = relu(conv(x, w) + b) with x NHWC, w (kh, kw, ci, co)
// (a Dense layer: k = 1 on a 1x1 image of h*w*ci channels); the gradients from dy by the chain rule.
Naive naive(const Layer& l, const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
            const std::vector<float>& dy) {
    const int64_t k = l.conv() ? l.k : 1, H = l.conv() ? l.h : 1, W = l.conv() ? l.w : 1, C = l.conv() ? l.ci : l.h * l.w * l.ci;
    const int64_t OH = H - k + 1, OW = W - k + 1, O = l.co;
    auto X = [&](int64_t n, int64_t i, int64_t j, int64_t c) { return ((n * H + i) * W + j) * C + c; };
    auto Y = [&](int64_t n, int64_t i, int64_t j, int64_t o) { return ((n * OH + i) * OW + j) * O + o; };
    auto K = [&](int64_t p, int64_t q, int64_t c, int64_t o) { return ((p * k + q) * C + c) * O + o; };
    Naive r;
    r.y.assign(size_t(l.n * OH * OW * O), 0.f);
    r.dy_relu = r.y;
    r.dx.assign(x.size(), 0.f);
    r.dw.assign(w.size(), 0.f);
    r.db.assign(size_t(O), 0.f);
    for (int64_t n = 0; n < l.n; ++n)
        for (int64_t i = 0; i < OH; ++i)
            for (int64_t j = 0; j < OW; ++j)
                for (int64_t o = 0; o < O; ++o) {
                    double s = b[size_t(o)];
                    for (int64_t p = 0; p < k; ++p)
                        for (int64_t q = 0; q < k; ++q)
                            for (int64_t c = 0; c < C; ++c) s += double(x[size_t(X(n, i + p, j + q, c))]) * w[size_t(K(p, q, c, o))];
                    const size_t yi = size_t(Y(n, i, j, o));
                    r.y[yi] = float(l.relu ? std::max(0.0, s) : s);
                    r.dy_relu[yi] = !l.relu || s > 0 ? dy[yi] : 0.f;
                }
    for (int64_t n = 0; n < l.n; ++n)
        for (int64_t i = 0; i < OH; ++i)
            for (int64_t j = 0; j < OW; ++j)
                for (int64_t o = 0; o < O; ++o) {
                    const float g = r.dy_relu[size_t(Y(n, i, j, o))];
                    r.db[size_t(o)] += g;
                    for (int64_t p = 0; p < k; ++p)
                        for (int64_t q = 0; q < k; ++q)
                            for (int64_t c = 0; c < C; ++c) {
                                r.dx[size_t(X(n, i + p, j + q, c))] += g * w[size_t(K(p, q, c, o))];
                                r.dw[size_t(K(p, q, c, o))] += g * x[size_t(X(n, i + p, j + q, c))];
                            }
                }
    return r;
}

// |got - want| ≤ tol × (max |want| + 1e-6), element by element; prints the first failure.
bool close(const std::string& what, const std::vector<float>& got, const std::vector<float>& want, double tol) {
    double scale = 1e-6;
    for (float v : want) scale = std::max(scale, double(std::fabs(v)));
    if (got.size() != want.size()) {
        std::printf("FAIL %s: %zu values, expected %zu\n", what.c_str(), got.size(), want.size());
        return false;
    }
    for (size_t i = 0; i < got.size(); ++i)
        if (!(std::fabs(double(got[i]) - want[i]) <= tol * scale)) {
            std::printf("FAIL %s[%zu]: %.8g, expected %.8g (scale %.3g)\n", what.c_str(), i, got[i], want[i], scale);
            return false;
        }
    std::printf("ok   %s (%zu values)\n", what.c_str(), got.size());
    return true;
}

int run_check() {
    // The naive loops themselves, by hand: ones everywhere, so every output is k*k*ci + b, and
    // every dw element is the number of output positions n*oh*ow.
    const Layer ones{"ones", 1, 4, 4, 2, 1, 3, false, true};
    const Naive h = naive(ones, std::vector<float>(32, 1.f), std::vector<float>(18, 1.f), {0.5f}, std::vector<float>(4, 1.f));
    bool ok = close("naive forward by hand", h.y, std::vector<float>(4, 18.5f), 0) &&
              close("naive dw by hand", h.dw, std::vector<float>(18, 4.f), 0) && close("naive db by hand", h.db, {4.f}, 0);
    // Two convolutions (one with odd channel counts that blocked layouts pad) and two Dense layers.
    const std::vector<Layer> layers = {{"conv", 2, 7, 6, 3, 5, 3, true, true},
                                       {"conv16", 2, 6, 6, 16, 32, 3, false, true},
                                       {"dense", 3, 2, 2, 5, 4, 0, true, true},
                                       {"dense_vec", 3, 1, 1, 7, 2, 0, false, true}};
    Engine e;
    for (const Layer& l : layers) {
        const auto x = random_for(l, DNNL_ARG_SRC, -1.f, 1.f, 11), w = random_for(l, DNNL_ARG_WEIGHTS, -1.f, 1.f, 12),
                   b = random_for(l, DNNL_ARG_BIAS, -1.f, 1.f, 13), dy = random_for(l, DNNL_ARG_DST, -1.f, 1.f, 14);
        const Naive want = naive(l, x, w, b, dy);
        for (Variant v : {Variant::keras, Variant::any, Variant::wino}) {
            if (v == Variant::wino && l.k != 3) continue;
            LayerPrims p;
            try {
                p = make_layer(e, l, v, true);
            } catch (const dnnl::error& err) {
                std::printf("--   %s.%s: not offered (%s)\n", l.name.c_str(), variant_name(v), err.what());
                continue;
            }
            // Winograd rounds differently (its transforms multiply by fractions); direct ~1e-6.
            const double tol = v == Variant::wino ? 2e-3 : 2e-5;
            const std::string at = l.name + "." + variant_name(v) + " ";
            p.fwd.put(DNNL_ARG_SRC, x);
            p.fwd.put(DNNL_ARG_WEIGHTS, w);
            p.fwd.put(DNNL_ARG_BIAS, b);
            p.fwd.run();
            ok &= close(at + "forward (" + p.fwd.impl + ")", p.fwd.get(DNNL_ARG_DST), want.y, tol);
            std::vector<float> g = dy;
            if (p.has_relu_bwd) {
                p.relu_bwd.put(DNNL_ARG_DST, want.y);
                p.relu_bwd.put(DNNL_ARG_DIFF_DST, dy);
                p.relu_bwd.run();
                g = p.relu_bwd.get(DNNL_ARG_DIFF_SRC);
                ok &= close(at + "relu backward", g, want.dy_relu, 0);
            }
            p.dx.put(DNNL_ARG_DIFF_DST, want.dy_relu);
            p.dx.put(DNNL_ARG_WEIGHTS, w);
            p.dx.run();
            ok &= close(at + "dx (" + p.dx.impl + ")", p.dx.get(DNNL_ARG_DIFF_SRC), want.dx, tol);
            p.dw.put(DNNL_ARG_SRC, x);
            p.dw.put(DNNL_ARG_DIFF_DST, want.dy_relu);
            p.dw.run();
            ok &= close(at + "dw (" + p.dw.impl + ")", p.dw.get(DNNL_ARG_DIFF_WEIGHTS), want.dw, tol);
            ok &= close(at + "db", p.dw.get(DNNL_ARG_DIFF_BIAS), want.db, tol);
        }
    }
    std::printf(ok ? "onednn_peer --check: all match\n" : "onednn_peer --check: MISMATCH\n");
    return ok ? 0 : 1;
}

[[noreturn]] void usage(int rc) {
    std::fputs("usage: onednn_peer [--threads N] [--peak GFLOPS] [--budget SECONDS] [--no-catsdogs]\n"
               "       onednn_peer --check\n",
               rc ? stderr : stdout);
    std::exit(rc);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        if (a == "--threads") o.threads = std::stoi(val());
        else if (a == "--peak") o.peak = std::stod(val());
        else if (a == "--budget") o.budget = std::stod(val());
        else if (a == "--no-catsdogs") o.catsdogs = false;
        else if (a == "--check") o.check = true;
        else if (a == "-h" || a == "--help") usage(0);
        else {
            std::fprintf(stderr, "onednn_peer: unknown argument '%s'\n", a.c_str());
            usage(2);
        }
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    omp_set_num_threads(o.threads);
    try {
        return o.check ? run_check() : run_figures(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "onednn_peer: %s\n", e.what());
        return 1;
    }
}
