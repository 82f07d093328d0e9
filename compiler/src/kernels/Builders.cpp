// The list of kernel builders: a KernelSpec's name selects one, its arguments configure it. A layer
// family's builders are in its folder's Kernels.cpp (compiler/src/layers/<family>/), listed here.
#include <map>
#include <stdexcept>

#include "kernels/KernelDef.h"
#include "kernels/Tuning.h"

namespace cnnc::engine {

#define CNNC_BUILDERS(X) \
    X(conv_fwd) X(conv_bwd_w) X(conv_bwd_x) X(conv_t_fwd)   /* layers/conv/Kernels.cpp */ \
    X(dense_fwd) X(dense_bwd_w) X(dense_bwd_x)              /* layers/dense/Kernels.cpp */ \
    X(pool_fwd) X(pool_bwd) X(global_fwd) X(global_bwd)    /* layers/pooling/Kernels.cpp */ \
    X(act_fwd) X(act_bwd) X(dropout) X(affine)             /* layers/elementwise/Kernels.cpp */ \
    X(embed_fwd) X(embed_bwd)                               /* layers/embedding/Kernels.cpp */ \
    X(upsample_fwd) X(upsample_bwd)                         /* layers/reshaping/Kernels.cpp */ \
    X(warp)                                                 /* layers/augmentation/Kernels.cpp */ \
    X(border)                                               /* layers/reshaping/Kernels.cpp */ \
    X(merge_fwd) X(merge_bwd)                               /* layers/merge/Kernels.cpp */ \
    X(bn_stats) X(bn_apply) X(bn_sums) X(bn_bwd_x) X(ln_fwd) X(ln_bwd) /* layers/normalization/Kernels.cpp */

#define CNNC_DECLARE(N) KernelDef build_##N(const KernelSpec&);
CNNC_BUILDERS(CNNC_DECLARE)
#undef CNNC_DECLARE

KernelDef build_kernel(const KernelSpec& spec) {
    using BuildFn = KernelDef (*)(const KernelSpec&);
    static const std::map<std::string, BuildFn> builders = {
#define CNNC_ENTRY(N) {#N, &build_##N},
        CNNC_BUILDERS(CNNC_ENTRY)
#undef CNNC_ENTRY
    };
    auto it = builders.find(spec.name());
    if (it == builders.end()) throw std::runtime_error("no kernel builder named '" + spec.name() + "'");
    return it->second(spec);
}

// The builders whose schedules the tuner chooses (kernels/Tuning.h): each has a `tune_<name>`
// beside it. Compute-bound ones; a family left out keeps its one schedule.
#define CNNC_TUNABLE(X) \
    X(conv_fwd) X(conv_bwd_w) X(conv_bwd_x) X(conv_t_fwd)   /* layers/conv/Kernels.cpp */ \
    X(dense_fwd) X(dense_bwd_w) X(dense_bwd_x)              /* layers/dense/Kernels.cpp */

#define CNNC_DECLARE_TUNE(N) TuneProblem tune_##N(const KernelSpec&, const TuneRequest&);
CNNC_TUNABLE(CNNC_DECLARE_TUNE)
#undef CNNC_DECLARE_TUNE

std::optional<TuneProblem> tune_problem(const KernelSpec& spec, const TuneRequest& q) {
    using TuneFn = TuneProblem (*)(const KernelSpec&, const TuneRequest&);
    static const std::map<std::string, TuneFn> tunable = {
#define CNNC_ENTRY(N) {#N, &tune_##N},
        CNNC_TUNABLE(CNNC_ENTRY)
#undef CNNC_ENTRY
    };
    auto it = tunable.find(spec.name());
    if (it == tunable.end() || q.level == TuneLevel::Off) return std::nullopt;
    return it->second(spec, q);
}

KernelSpec fit_to_target(const KernelSpec& spec, const Halide::Target& target) {
    if (spec.has("s_vec")) return spec;  // a tile chosen by measurement, or by the caller
    auto p = tune_problem(spec, TuneRequest{1, TuneLevel::Quick, vector_unit(target)});
    if (!p || p->candidates.empty()) return spec;
    Knobs k = Knobs::from(spec);
    const Knobs& d = p->candidates.front();  // all zero where the builder's default fits
    k.vec = d.vec, k.vecs = d.vecs, k.other = d.other;
    return k.apply(spec);
}

std::vector<Halide::Argument> KernelDef::arguments() const {
    std::vector<Halide::Argument> args;
    for (const auto& p : inputs) args.emplace_back(p);
    for (const auto& p : ints) args.emplace_back(p);
    return args;
}

}  // namespace cnnc::engine
