// Folding, for inference, a per-channel scale and shift into the layer before it: a
// BatchNormalization after a Conv or Dense layer whose output only it reads becomes
// W' = W·scale per output channel and b' = b·scale + shift in that layer's kernel, with
// scale = gamma / sqrt(moving_variance + epsilon) and shift = beta − moving_mean·scale, and the
// BatchNormalization itself is planned away (rt::Op::absorbed). The folded weights are computed
// at every folded forward from the current values, so training between evaluations is seen.
#pragma once
#include <functional>

#include "net/Op.h"

namespace cnnc::engine {

class AffineFold {
  public:
    using Source = std::function<void(rt::Tensor& scale, rt::Tensor& shift)>;
    void set(Source s) { source_ = std::move(s); }
    // This forward runs folded: a source is set and the network has planned the folded op away.
    bool active(const rt::StepInfo& s) const { return source_ && s.folded; }
    // kernel·scale along the kernel's last axis (its output channels), and bias·scale + shift
    // (bias null: the layer has none, 0).
    void apply(const rt::Tensor& kernel, const rt::Tensor* bias);
    rt::Tensor kernel, bias;  // what apply() made

  private:
    Source source_;
    rt::Tensor scale_, shift_;
};

// An op that can take a scale and shift of its output channels (Conv, Dense). `fold` also asks
// the kernel cache for what a folded forward runs, so `cnnc build` compiles it in.
class FoldsAffine {
  public:
    virtual ~FoldsAffine() = default;
    virtual void fold(AffineFold::Source source) = 0;
};

// Folds `op`, a BatchNormalization over its input's last axis, into `producer` when the producer
// can take it (FoldsAffine) and the output channels agree; true when folded. The caller checks
// the graph: the producer has no activation, and only `op` reads its output.
bool fold_into(rt::Op& op, rt::Op& producer);

}  // namespace cnnc::engine
