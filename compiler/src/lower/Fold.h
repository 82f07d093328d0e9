// Folding, for inference, a per-channel scale and shift into the layer before it: a
// BatchNormalization after a Conv or Dense layer whose output only it reads becomes
// W' = W·scale per output channel and b' = b·scale + shift in that layer's kernel, with
// scale = gamma / sqrt(moving_variance + epsilon) and shift = beta − moving_mean·scale, and the
// BatchNormalization itself is planned away (rt::Op::absorbed). The folded weights are computed
// at every folded forward from the current values, so training between evaluations is seen.
#pragma once
#include <functional>

#include "kernel/Kernel.h"
#include "net/Op.h"

namespace cnnc::engine {

class AffineFold {
  public:
    using Source = std::function<void(rt::Tensor& scale, rt::Tensor& shift)>;
    void set(Source s) { source_ = std::move(s); }
    // This forward runs folded: a source is set and the network has planned the folded op away.
    bool active(const rt::StepInfo& s) const { return source_ && s.folded; }
    // kernel·scale for each of the `channels` output channels, which vary fastest in the kernel
    // (its last axis, or its last two for a depthwise kernel), and bias·scale + shift (bias null:
    // the layer has none, 0).
    void apply(const rt::Tensor& kernel, const rt::Tensor* bias, int64_t channels);
    rt::Tensor kernel, bias;  // what apply() made

  private:
    Source source_;
    rt::Tensor scale_, shift_;
};

// An op that can take a scale and shift of its output channels (Conv, Dense): in a folded
// forward it runs its forward kernel with a bias (folded_spec) on fold_.kernel and fold_.bias.
// fold() asks the cache for that kernel at once, so `cnnc build` compiles it in.
class FoldsAffine {
  public:
    virtual ~FoldsAffine() = default;
    void fold(AffineFold::Source source, KernelCache& cache) {
        fold_.set(std::move(source));
        folded_fwd_ = cache.get(folded_spec());
    }

  protected:
    virtual KernelSpec folded_spec() const = 0;
    // Whether this forward runs folded; if so, fold_ holds the folded kernel and bias of the
    // layer's `kernel` and `bias` (null: none).
    bool run_folded(const rt::StepInfo& s, const rt::Tensor& kernel, const rt::Tensor* bias, int64_t channels) {
        if (!fold_.active(s)) return false;
        fold_.apply(kernel, bias, channels);
        return true;
    }
    AffineFold fold_;
    std::shared_ptr<Kernel> folded_fwd_;
};

// Folds `op`, a BatchNormalization over its input's last axis, into `producer` when the producer
// can take it (FoldsAffine) and the output channels agree; true when folded. The caller checks
// the graph: the producer has no activation, and only `op` reads its output.
bool fold_into(rt::Op& op, rt::Op& producer, KernelCache& cache);

}  // namespace cnnc::engine
