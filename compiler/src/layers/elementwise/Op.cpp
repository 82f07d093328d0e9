// Layers that map values one by one: Activation, Dropout, SpatialDropout2D, Rescaling, PreprocessInput; and the
// separate activation stage of a layer that does not fuse its activation (Lowering.h).
#include <algorithm>
#include <stdexcept>

#include "Error.h"
#include "builtins/Builtins.h"
#include "ir/Activation.h"
#include "lower/Lowering.h"

namespace cnnc::engine {

namespace {

Buf flat(const rt::View& v, int channels) { return to_halide(v, {v.size() / channels, channels}); }

// y = act(x) for one activation (canonical name). Its backward reads y, or x where the derivative
// needs the input (kernels/Activation.h).
class ActivationOp : public rt::Op {
  public:
    ActivationOp(KernelCache& cache, std::string act, int channels) : act_(std::move(act)), ch_(channels), cache_(&cache) {
        fwd_ = cache_->get(KernelSpec("act_fwd").set("act", act_).set("c", ch_));
    }
    bool owns_activation() const override { return true; }
    std::string output_activation() const override { return derivative_from_output(act_); }
    void set_preactivation_gradient(bool on) override { given_dz_ = on; }
    void prepare_backward(bool need_dx) override {
        if (!need_dx || given_dz_) return;
        bwd_ = cache_->get(KernelSpec("act_bwd").set("act", act_).set("c", ch_));
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override { fwd_->run({flat(x, ch_)}, {flat(y, ch_)}); }
    void backward(const rt::View& x, const rt::View& y, const rt::View& dy, const rt::View* dx, bool logits,
                  const rt::StepInfo&) override {
        if (!dx) return;
        if (given_dz_) {  // the reader applied the derivative: dL/dx is dy as it came
            std::copy(dy.data, dy.data + dy.size(), dx->data);
            return;
        }
        const rt::View& v = activation_traits(act_).needs_input ? x : y;
        bwd_->run({flat(v, ch_), flat(dy, ch_)}, {flat(*dx, ch_)}, {logits ? 1 : 0});
    }

  private:
    std::string act_;
    int ch_;
    bool given_dz_ = false;
    KernelCache* cache_;
    std::shared_ptr<Kernel> fwd_, bwd_;
};

// Dropout, and SpatialDropout2D: one draw for each `positions` values of a channel (an image's
// height * width: whole channels dropped), 1 for Dropout.
class DropoutOp : public rt::Op {
  public:
    DropoutOp(const LowerContext& ctx, double rate, int channels, int64_t layer_seed, int positions)
        : rate_(static_cast<float>(rate)), ch_(channels), layer_seed_(layer_seed) {
        // The same kernel serves forward (x) and backward (dy): Kernels.cpp.
        KernelSpec spec = KernelSpec("dropout").set("rate", rate_).set("c", ch_);
        if (positions != 1) spec.set("positions", positions);  // Dropout's key as before
        kernel_ = ctx.cache.get(spec);
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo& s) override {
        if (!s.training || rate_ == 0) {
            std::copy(x.data, x.data + x.size(), y.data);
            return;
        }
        kernel_->run({global(x, ch_, s)}, {global(y, ch_, s)}, {seed(s), static_cast<int>(s.step)});
    }
    void backward(const rt::View&, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo& s) override {
        if (!dx) return;
        if (rate_ == 0) {
            std::copy(dy.data, dy.data + dy.size(), dx->data);
            return;
        }
        kernel_->run({global(dy, ch_, s)}, {global(*dx, ch_, s)}, {seed(s), static_cast<int>(s.step)});
    }

  private:
    // The tensor flattened to (channels, rest), its rows numbered from the batch's first row in the
    // global batch: the mask hashes the row index, which so counts from the global batch's start.
    static Buf global(const rt::View& v, int ch, const rt::StepInfo& s) {
        Buf b = flat(v, ch);
        if (const int64_t first = s.first_sample) b.translate(1, static_cast<int>(first * (v.size() / v.shape[0] / ch)));
        return b;
    }
    int seed(const rt::StepInfo& s) const { return static_cast<int>((s.seed * 1000003u + static_cast<uint64_t>(layer_seed_)) & 0x7fffffff); }
    float rate_;
    int ch_;
    int64_t layer_seed_;
    std::shared_ptr<Kernel> kernel_;
};

// y = x * scale[c] + offset[c], optionally with channels reversed (RGB -> BGR). Covers Rescaling
// and the three preprocess_input modes; its backward is dx = dy * scale (channels reversed back).
class AffineOp : public rt::Op {
  public:
    AffineOp(const LowerContext& ctx, std::vector<float> scale, std::vector<float> offset, bool reverse)
        : ch_(static_cast<int>(scale.size())) {
        auto spec = [&](bool backward) {
            return KernelSpec("affine").set("scale", scale).set("offset", offset).set("reverse", reverse).set("backward", backward);
        };
        fwd_ = ctx.cache.get(spec(false));
        bwd_ = ctx.cache.get(spec(true));
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override { fwd_->run({flat(x, ch_)}, {flat(y, ch_)}); }
    void backward(const rt::View&, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo&) override {
        if (dx) bwd_->run({flat(dy, ch_)}, {flat(*dx, ch_)});
    }

  private:
    int ch_;
    std::shared_ptr<Kernel> fwd_, bwd_;
};

}  // namespace

std::string layer_activation(const LayerNode& l) {
    const std::string& arg = l.kind->activation_arg;
    if (arg.empty() || l.args.is_none(arg)) return "linear";
    const Builtin* b = find_builtin(activations(), l.args.text(arg));
    if (!b) throw std::logic_error("internal: layer '" + l.name + "' has an unchecked activation");
    return b->name;
}

std::string fused_activation(const LayerNode& l) {
    std::string a = layer_activation(l);
    return activation_traits(a).needs_input ? "linear" : a;
}

std::string derivative_from_output(const std::string& act) {
    const ActivationTraits t = activation_traits(act);
    return act == "linear" || t.needs_input || t.across_channels ? "" : act;
}

std::unique_ptr<rt::Op> activation_stage(const LowerContext& ctx) {
    const LayerNode& l = ctx.node;
    if (l.type == "Activation" || fused_activation(l) == layer_activation(l)) return nullptr;
    return std::make_unique<ActivationOp>(ctx.cache, layer_activation(l), static_cast<int>(l.out.back()));
}

std::unique_ptr<rt::Op> lower_Activation(const LowerContext& ctx) {
    return std::make_unique<ActivationOp>(ctx.cache, layer_activation(ctx.node), static_cast<int>(ctx.node.in.back()));
}

namespace {
std::unique_ptr<rt::Op> dropout(const LowerContext& ctx, int positions) {
    int64_t layer_seed = ctx.node.args.is_none("seed") ? static_cast<int64_t>(std::hash<std::string>{}(ctx.path) & 0xffff)
                                                       : ctx.node.args.integer("seed");
    return std::make_unique<DropoutOp>(ctx, ctx.node.args.number("rate"), static_cast<int>(ctx.node.in.back()), layer_seed, positions);
}
}  // namespace

std::unique_ptr<rt::Op> lower_Dropout(const LowerContext& ctx) { return dropout(ctx, 1); }

std::unique_ptr<rt::Op> lower_SpatialDropout2D(const LowerContext& ctx) {
    return dropout(ctx, static_cast<int>(ctx.node.in[0] * ctx.node.in[1]));
}

std::unique_ptr<rt::Op> lower_Rescaling(const LowerContext& ctx) {
    return std::make_unique<AffineOp>(ctx, std::vector<float>{static_cast<float>(ctx.node.args.number("scale"))},
                                      std::vector<float>{static_cast<float>(ctx.node.args.number("offset"))}, false);
}

std::unique_ptr<rt::Op> lower_PreprocessInput(const LowerContext& ctx) {
    const std::string& mode = ctx.node.args.text("mode");
    if (mode == "caffe")  // RGB -> BGR, then ImageNet's BGR means subtracted (keras.applications.imagenet_utils)
        return std::make_unique<AffineOp>(ctx, std::vector<float>{1, 1, 1}, std::vector<float>{-103.939f, -116.779f, -123.68f}, true);
    if (mode == "tf") return std::make_unique<AffineOp>(ctx, std::vector<float>(3, 1 / 127.5f), std::vector<float>(3, -1.f), false);
    // torch: x/255, then (x - mean) / std per channel.
    std::vector<float> mean = {0.485f, 0.456f, 0.406f}, sd = {0.229f, 0.224f, 0.225f}, s(3), o(3);
    for (int i = 0; i < 3; ++i) s[static_cast<size_t>(i)] = 1 / (255 * sd[static_cast<size_t>(i)]), o[static_cast<size_t>(i)] = -mean[static_cast<size_t>(i)] / sd[static_cast<size_t>(i)];
    return std::make_unique<AffineOp>(ctx, s, o, false);
}

}  // namespace cnnc::engine
