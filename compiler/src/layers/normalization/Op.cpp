// BatchNormalization and LayerNormalization as ops: the layer's axis makes the tensor rows of
// c × inner values (Config.h), and the ops run the bn_* and ln_* kernels (Kernels.cpp).
// BatchNormalization keeps Keras 3's training rule: the batch's statistics, and the moving
// averages updated, only when training and the layer is trainable; its moving statistics otherwise.
#include <cmath>
#include <stdexcept>

#include "layers/normalization/Config.h"
#include "lower/Fold.h"
#include "lower/Lowering.h"

namespace cnnc::engine {

namespace {

NormCfg norm_cfg(const LayerNode& l) {
    const int ax = layer_util::axis_index(l.args.integer("axis"), l.in.rank());
    int64_t inner = 1;
    for (size_t i = static_cast<size_t>(ax) + 1; i < l.in.rank(); ++i) inner *= l.in[i];
    return {static_cast<int>(l.in[static_cast<size_t>(ax)]), static_cast<int>(inner), static_cast<float>(l.args.number("epsilon"))};
}

// What both ops share: the layout, and gamma and beta, or ones and zeros in their place.
class NormOp : public rt::Op {
  public:
    NormOp(const LowerContext& ctx, NormCfg cfg) : cfg_(cfg), cache_(&ctx.cache) {
        params = make_params(ctx);
        const BoundArgs& a = ctx.node.args;
        int next = 0;
        gamma_ = a.flag("scale") ? next++ : -1;
        beta_ = a.flag("center") ? next++ : -1;
        ones_ = rt::Tensor({cfg_.c}), ones_.fill(1);
        zeros_ = rt::Tensor({cfg_.c}), zeros_.fill(0);
        dgamma_ = rt::Tensor({cfg_.c}), dbeta_ = rt::Tensor({cfg_.c});
    }

  protected:
    Buf rows(const rt::View& v) const { return to_halide(v, {v.size() / (cfg_.c * cfg_.inner), cfg_.c, cfg_.inner}); }
    static Buf vec(const rt::Tensor& t) { return to_halide(t.view()); }
    const rt::Tensor& gamma() const { return gamma_ >= 0 ? params[static_cast<size_t>(gamma_)].value : ones_; }
    const rt::Tensor& beta() const { return beta_ >= 0 ? params[static_cast<size_t>(beta_)].value : zeros_; }
    bool scale_or_center_trains() const {
        return (gamma_ >= 0 && params[static_cast<size_t>(gamma_)].trainable) || (beta_ >= 0 && params[static_cast<size_t>(beta_)].trainable);
    }
    // dgamma_ and dbeta_ into the grads of those that train.
    void take_grads() {
        if (gamma_ >= 0 && params[static_cast<size_t>(gamma_)].trainable) params[static_cast<size_t>(gamma_)].grad = dgamma_;
        if (beta_ >= 0 && params[static_cast<size_t>(beta_)].trainable) params[static_cast<size_t>(beta_)].grad = dbeta_;
    }

    NormCfg cfg_;
    KernelCache* cache_;
    int gamma_, beta_;
    rt::Tensor ones_, zeros_, dgamma_, dbeta_;
};

class BatchNormOp : public NormOp {
  public:
    BatchNormOp(const LowerContext& ctx, NormCfg cfg) : NormOp(ctx, cfg), layer_trainable_(ctx.node.trainable) {
        momentum_ = static_cast<float>(ctx.node.args.number("momentum"));
        rest_ = static_cast<float>(1.0 - ctx.node.args.number("momentum"));  // as Keras: (1.0 - momentum) in double, then float32
        mean_ = params.size() - 2;
        var_ = params.size() - 1;
        bmean_ = rt::Tensor({cfg_.c}), bvar_ = rt::Tensor({cfg_.c});
        apply_ = cache_->get(cfg_.spec("bn_apply"));
    }
    void prepare_backward(bool) override { training_kernels(); }

    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo& s) override {
        batch_ = s.training && trains();
        Buf hx = rows(x);
        if (batch_) {
            training_kernels();
            stats_->run({hx}, {vec(bmean_), vec(bvar_)});
            rt::Tensor &mm = params[mean_].value, &mv = params[var_].value;
            for (int64_t k = 0; k < cfg_.c; ++k) {
                mm[k] = mm[k] * momentum_ + bmean_[k] * rest_;
                mv[k] = mv[k] * momentum_ + bvar_[k] * rest_;
            }
        }
        apply_->run({hx, vec(gamma()), vec(beta()), vec(mean()), vec(variance())}, {rows(y)});
    }

    void backward(const rt::View& x, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo&) override {
        Buf hx = rows(x), hdy = rows(dy);
        if (batch_ || scale_or_center_trains()) {
            training_kernels();
            sums_->run({hx, hdy, vec(mean()), vec(variance())}, {vec(dbeta_), vec(dgamma_)});
            take_grads();
        }
        if (!dx) return;
        if (batch_) bwd_x_->run({hx, hdy, vec(gamma()), vec(mean()), vec(variance()), vec(dbeta_), vec(dgamma_)}, {rows(*dx)});
        else apply_->run({hdy, vec(gamma()), vec(zeros_), vec(zeros_), vec(variance())}, {rows(*dx)});  // dx = dy·gamma/sqrt(var + eps)
    }

    bool absorbed() const override { return absorbed_; }
    // Folding (lower/Fold.h): over the last axis only, where the channels are the producer's.
    bool foldable() const { return cfg_.inner == 1; }
    void fold() { absorbed_ = true; }
    // What inference computes, as a scale and shift per channel: gamma / sqrt(moving_variance +
    // epsilon), and beta − moving_mean·scale (bn_apply's a and b).
    void inference_affine(rt::Tensor& scale, rt::Tensor& shift) const {
        if (scale.size() != cfg_.c) throw std::logic_error("internal: a BatchNormalization folded into a layer of other channels");
        const rt::Tensor &g = gamma(), &b = beta(), &m = params[mean_].value, &v = params[var_].value;
        for (int64_t k = 0; k < cfg_.c; ++k) {
            scale[k] = g[k] / std::sqrt(v[k] + cfg_.eps);
            shift[k] = b[k] - m[k] * scale[k];
        }
    }

  private:
    // Keras 3: a frozen BatchNormalization (trainable = false) normalizes with its moving
    // statistics even in training. Unfreezing (`unfreeze = [...]`) makes gamma and beta trainable.
    bool trains() const { return gamma_ >= 0 || beta_ >= 0 ? scale_or_center_trains() : layer_trainable_; }
    const rt::Tensor& mean() const { return batch_ ? bmean_ : params[mean_].value; }
    const rt::Tensor& variance() const { return batch_ ? bvar_ : params[var_].value; }
    void training_kernels() {
        if (stats_) return;
        stats_ = cache_->get(cfg_.spec("bn_stats"));
        sums_ = cache_->get(cfg_.spec("bn_sums"));
        bwd_x_ = cache_->get(cfg_.spec("bn_bwd_x"));
    }

    bool layer_trainable_, batch_ = false, absorbed_ = false;
    float momentum_, rest_;
    size_t mean_, var_;
    rt::Tensor bmean_, bvar_;
    std::shared_ptr<Kernel> apply_, stats_, sums_, bwd_x_;
};

class LayerNormOp : public NormOp {
  public:
    LayerNormOp(const LowerContext& ctx, NormCfg cfg) : NormOp(ctx, cfg) { fwd_ = cache_->get(cfg_.spec("ln_fwd")); }
    void prepare_backward(bool) override { bwd_ = cache_->get(cfg_.spec("ln_bwd")); }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override {
        fwd_->run({rows(x), vec(gamma()), vec(beta())}, {rows(y)});
    }
    void backward(const rt::View& x, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo&) override {
        if (!dx && dx_scratch_.shape() != x.shape) dx_scratch_ = rt::Tensor(x.shape);  // the kernel makes dx with the parameters' gradients
        bwd_->run({rows(x), rows(dy), vec(gamma())}, {rows(dx ? *dx : dx_scratch_.view()), vec(dgamma_), vec(dbeta_)});
        take_grads();
    }

  private:
    std::shared_ptr<Kernel> fwd_, bwd_;
    rt::Tensor dx_scratch_;
};

}  // namespace

bool fold_into(rt::Op& op, rt::Op& producer, KernelCache& cache) {
    auto* bn = dynamic_cast<BatchNormOp*>(&op);
    auto* target = dynamic_cast<FoldsAffine*>(&producer);
    if (!bn || !target || !bn->foldable()) return false;
    target->fold([bn](rt::Tensor& scale, rt::Tensor& shift) { bn->inference_affine(scale, shift); }, cache);
    bn->fold();
    return true;
}

std::unique_ptr<rt::Op> lower_BatchNormalization(const LowerContext& ctx) {
    return std::make_unique<BatchNormOp>(ctx, norm_cfg(ctx.node));
}

std::unique_ptr<rt::Op> lower_LayerNormalization(const LowerContext& ctx) {
    return std::make_unique<LayerNormOp>(ctx, norm_cfg(ctx.node));
}

}  // namespace cnnc::engine
