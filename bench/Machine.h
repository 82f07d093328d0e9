// What the benchmark's machine can do and how busy others keep it: its name, its FP32 peak
// (measured), and the cores other processes use during a timed section. Shared by cnnc_bench and
// the oneDNN peer (onednn_peer), so every fraction of peak and every load figure in bench/ means
// the same.
#pragma once

#include <immintrin.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

namespace cnnc::bench {

inline double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double median(std::vector<double> v) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// This process's CPU time, all its threads.
inline double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec) + double(u.ru_stime.tv_sec) +
           1e-6 * double(u.ru_stime.tv_usec);
}

// CPU time of every process on the machine (user+nice+system+irq+softirq+steal from /proc/stat),
// so a timed section can report how much of the machine others used meanwhile.
inline double machine_busy_seconds() {
    std::ifstream f("/proc/stat");
    std::string cpu;
    double v[8] = {0};
    f >> cpu;
    for (double& x : v) f >> x;
    if (!f || cpu != "cpu") return NAN;
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / double(sysconf(_SC_CLK_TCK));
}
struct LoadMeter {  // cores busy with other processes between construction and others()
    double wall0 = 0, busy0 = 0, own0 = 0;
    LoadMeter() : wall0(now()), busy0(machine_busy_seconds()), own0(cpu_seconds()) {}
    double own_util() const { return (cpu_seconds() - own0) / elapsed(); }
    double others() const { return std::max(0.0, (machine_busy_seconds() - busy0 - (cpu_seconds() - own0)) / elapsed()); }
    double elapsed() const { return now() - wall0; }
};

// "CPU: <model name>, family F model M (<microarchitecture>), N CPUs online", from /proc/cpuinfo.
inline std::string cpu_description() {
    std::ifstream f("/proc/cpuinfo");
    std::string line, name, family, model;
    while (std::getline(f, line) && (name.empty() || family.empty() || model.empty())) {
        auto val = [&] { return line.substr(line.find(':') + 2); };
        if (line.rfind("model name", 0) == 0 && name.empty()) name = val();
        else if (line.rfind("cpu family", 0) == 0 && family.empty()) family = val();
        else if (line.rfind("model", 0) == 0 && line.rfind("model name", 0) != 0 && model.empty()) model = val();
    }
    // Family 25 is both Zen 3 and Zen 4; of the two only Zen 4 has AVX-512.
    std::string arch = family == "25" ? (__builtin_cpu_supports("avx512f") ? " (Zen 4)" : " (Zen 3)") : family == "26" ? " (Zen 5)" : "";
    return "CPU: " + name + ", family " + family + " model " + model + arch + ", " + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) +
           " CPUs online";
}

// FP32 peak on AVX-512: 16 independent FMA chains of 16 lanes per thread (12+ chains are needed to
// measure throughput rather than latency on Zen 5).
__attribute__((target("avx512f"))) inline double fma_chains(int64_t iters) {
    // Distinct starting values, and every chain passed through an empty asm each iteration: the
    // compiler can neither merge identical chains nor hoist anything out of the loop.
#define CNNC_INIT(k) a##k = _mm512_set1_ps(1.f + 0.01f * k)
    __m512 CNNC_INIT(0), CNNC_INIT(1), CNNC_INIT(2), CNNC_INIT(3), CNNC_INIT(4), CNNC_INIT(5), CNNC_INIT(6), CNNC_INIT(7),
        CNNC_INIT(8), CNNC_INIT(9), CNNC_INIT(10), CNNC_INIT(11), CNNC_INIT(12), CNNC_INIT(13), CNNC_INIT(14), CNNC_INIT(15);
#undef CNNC_INIT
    const __m512 m = _mm512_set1_ps(0.9999f), c = _mm512_set1_ps(1e-7f);
    for (int64_t i = 0; i < iters; ++i) {
#define CNNC_FMA4(x, y, z, w)          \
    x = _mm512_fmadd_ps(x, m, c);      \
    y = _mm512_fmadd_ps(y, m, c);      \
    z = _mm512_fmadd_ps(z, m, c);      \
    w = _mm512_fmadd_ps(w, m, c);
        CNNC_FMA4(a0, a1, a2, a3)
        CNNC_FMA4(a4, a5, a6, a7)
        CNNC_FMA4(a8, a9, a10, a11)
        CNNC_FMA4(a12, a13, a14, a15)
#undef CNNC_FMA4
        __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7));
        __asm__ volatile("" : "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11), "+v"(a12), "+v"(a13), "+v"(a14), "+v"(a15));
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
                                       _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, s);
    return double(std::accumulate(lanes, lanes + 16, 0.0f));
}

// The same on AVX2 + FMA (Zen 2/3, Haswell to Alder Lake): 12 chains of 8 lanes, which with the two
// constants fit the 16 registers, and cover 2 FMA pipes of latency 4-5 cycles.
__attribute__((target("avx2,fma"))) inline double fma_chains_avx2(int64_t iters) {
#define CNNC_INIT(k) a##k = _mm256_set1_ps(1.f + 0.01f * k)
    __m256 CNNC_INIT(0), CNNC_INIT(1), CNNC_INIT(2), CNNC_INIT(3), CNNC_INIT(4), CNNC_INIT(5), CNNC_INIT(6), CNNC_INIT(7),
        CNNC_INIT(8), CNNC_INIT(9), CNNC_INIT(10), CNNC_INIT(11);
#undef CNNC_INIT
    const __m256 m = _mm256_set1_ps(0.9999f), c = _mm256_set1_ps(1e-7f);
    for (int64_t i = 0; i < iters; ++i) {
#define CNNC_FMA4(x, y, z, w)          \
    x = _mm256_fmadd_ps(x, m, c);      \
    y = _mm256_fmadd_ps(y, m, c);      \
    z = _mm256_fmadd_ps(z, m, c);      \
    w = _mm256_fmadd_ps(w, m, c);
        CNNC_FMA4(a0, a1, a2, a3)
        CNNC_FMA4(a4, a5, a6, a7)
        CNNC_FMA4(a8, a9, a10, a11)
#undef CNNC_FMA4
        __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5));
        __asm__ volatile("" : "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11));
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, s);
    return double(std::accumulate(lanes, lanes + 8, 0.0f));
}

// How the peak is measured on this CPU: "16 AVX-512 FMA chains", "12 AVX2 FMA chains", or "" (neither).
inline std::string fma_peak_method() {
    if (__builtin_cpu_supports("avx512f")) return "16 AVX-512 FMA chains";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "12 AVX2 FMA chains";
    return "";
}

// GFLOP/s of `threads` threads running the widest FMA chains this CPU has at once, best of 3;
// NaN without AVX2 + FMA.
inline double measure_fma_peak(int threads) {
    const bool avx512 = __builtin_cpu_supports("avx512f");
    if (fma_peak_method().empty()) return NAN;
    // 20M × 16 chains × 16 lanes × 2 = 10.2 GFLOP per thread (AVX2: 30M × 12 × 8 × 2 = 5.8)
    const int64_t iters = avx512 ? 20'000'000 : 30'000'000;
    const double flop_per_iter = avx512 ? 16 * 16 * 2 : 12 * 8 * 2;
    std::vector<double> best;
    for (int rep = 0; rep < 3; ++rep) {
        std::vector<std::thread> th;
        std::vector<double> sink(static_cast<size_t>(threads));
        double t0 = now();
        for (int t = 0; t < threads; ++t)
            th.emplace_back([&, t] { sink[static_cast<size_t>(t)] = avx512 ? fma_chains(iters) : fma_chains_avx2(iters); });
        for (auto& t : th) t.join();
        double dt = now() - t0;
        if (std::isnan(std::accumulate(sink.begin(), sink.end(), 0.0))) return NAN;
        best.push_back(double(threads) * double(iters) * flop_per_iter / dt / 1e9);
    }
    return *std::max_element(best.begin(), best.end());
}

}  // namespace cnnc::bench
