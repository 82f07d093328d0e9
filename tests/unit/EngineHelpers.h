// Shared by the engine tests: one kernel cache for the whole test binary (JIT compiles cost about
// half a second each, so identical kernels are compiled once), and models built from snippets.
#pragma once
#include "Helpers.h"
#include "engine/Build.h"
#include "engine/KernelList.h"
#include "kernels/Jit.h"
#include "train/Random.h"

namespace cnnc::test {

inline engine::KernelCache& kernel_cache() {
    static engine::JitKernels cache;
    return cache;
}

// The keys of the kernels a training step of `code`'s first model asks for: what `cnnc build`
// compiles into an executable (engine/KernelList.h), nothing compiled.
inline std::vector<std::string> training_kernel_keys(const std::string& code) {
    auto c = compile(code);
    require_ok(*c);
    engine::RecordingKernels rec;
    auto net = engine::build_network(c->program.models.at(0), rec, 1);
    net->prepare(2, true);
    std::vector<std::string> keys;
    for (const auto& s : rec.specs) keys.push_back(s.key());
    return keys;
}

// Compiles `code` (a whole file) and builds its first model.
struct Built {
    std::unique_ptr<Compilation> c;
    std::unique_ptr<rt::Network> net;
    const Model& model() const { return c->program.models.at(0); }
};

inline Built build(const std::string& code, uint64_t seed = 1) {
    Built b;
    b.c = compile(code);
    require_ok(*b.c);
    b.net = engine::build_network(b.c->program.models.at(0), kernel_cache(), seed);
    return b;
}

inline void fill_uniform(float* p, int64_t n, rt::Rng& rng, double lo, double hi) {
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(rng.uniform(lo, hi));
}

}  // namespace cnnc::test
