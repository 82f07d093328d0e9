// Layers that map values one by one: Activation, Dropout, Rescaling, PreprocessInput; and the
// shape-only Flatten and Reshape, which run no kernel at all.
#include <fmt/format.h>

#include "Error.h"
#include "engine/Activation.h"
#include "lower/Lowering.h"
#include "lower/Schedule.h"

namespace cnnc::engine {
using namespace Halide;

namespace {

// An elementwise kernel over the tensor flattened to (channels, rest): `f(in, c, i)` gives the
// output; `inputs` are the ImageParams it reads (all of the same shape) and `ints` its int params.
Kernel elementwise(int channels, int n_inputs, int n_ints,
                   const std::function<Expr(const std::vector<ImageParam>&, const std::vector<Param<int>>&, Var, Var)>& f) {
    Kernel k;
    for (int i = 0; i < n_inputs; ++i) {
        k.inputs.emplace_back(Float(32), 2, "in" + std::to_string(i));
        dense_layout(k.inputs.back(), {channels, 0});
    }
    for (int i = 0; i < n_ints; ++i) k.ints.emplace_back("p" + std::to_string(i));
    Var c("c"), i("i");
    Func out("out");
    out(c, i) = f(k.inputs, k.ints, c, i);
    Var io("io"), ii("ii");
    out.output_buffer().dim(0).set_bounds(0, channels);
    if (sched::vector_width(channels) == 16) {
        out.vectorize(c, 16).split(i, io, ii, 256, TailStrategy::GuardWithIf).parallel(io);
    } else {
        // Few channels (Rescaling of an image has 1, RGB 3): vectorise along the rows instead,
        // channels unrolled, so a 180x180x3 batch is not 48,000 tasks of scalar code.
        out.bound(c, 0, channels).unroll(c).reorder(c, i).split(i, io, ii, 4096, TailStrategy::GuardWithIf).parallel(io).vectorize(ii, 16, TailStrategy::GuardWithIf);
    }
    k.pipeline = Pipeline(out);
    return k;
}

Buffer<float> flat(const rt::View& v, int channels) { return to_halide(v, {v.size() / channels, channels}); }

class ActivationOp : public rt::Op {
  public:
    ActivationOp(const LowerContext& ctx, std::string act, int channels) : act_(std::move(act)), ch_(channels), cache_(&ctx.cache) {
        std::string key = fmt::format("{}|{}", act_, ch_);
        fwd_ = cache_->get("act_fwd|" + key, [&] {
            Kernel k;
            ImageParam in(Float(32), 2, "in");
            dense_layout(in, {ch_, 0});
            Var c("c"), i("i");
            Func z("z");
            z(c, i) = in(c, i);
            Func y = activation_forward(act_, z, 2, ch_);
            y.compute_root();
            k.pipeline = Pipeline(y);
            k.inputs = {in};
            return k;
        });
    }
    bool owns_activation() const override { return true; }
    void prepare_backward(bool need_dx) override {
        if (!need_dx) return;
        bwd_ = cache_->get(fmt::format("act_bwd|{}|{}", act_, ch_), [&] {
            Kernel k;
            ImageParam y(Float(32), 2, "y"), dy(Float(32), 2, "dy");
            Param<int> logits("logits");
            dense_layout(y, {ch_, 0});
            dense_layout(dy, {ch_, 0});
            Var c("c"), i("i");
            Func fy("fy"), fdy("fdy");
            fy(c, i) = y(c, i);
            fdy(c, i) = dy(c, i);
            Func dz = activation_backward(act_, fy, fdy, 2, ch_, logits != 0);
            dz.compute_root();
            k.pipeline = Pipeline(dz);
            k.inputs = {y, dy};
            k.ints = {logits};
            return k;
        });
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override { fwd_->run({flat(x, ch_)}, {flat(y, ch_)}); }
    void backward(const rt::View&, const rt::View& y, const rt::View& dy, const rt::View* dx, bool logits,
                  const rt::StepInfo&) override {
        if (dx) bwd_->run({flat(y, ch_), flat(dy, ch_)}, {flat(*dx, ch_)}, {logits ? 1 : 0});
    }

  private:
    std::string act_;
    int ch_;
    KernelCache* cache_;
    std::shared_ptr<Kernel> fwd_, bwd_;
};

// A stateless hash of (seed, step, index) to [0, 1): the same mask in forward and backward
// without storing it, and a different one every step.
Expr uniform_hash(Expr seed, Expr step, Expr index) {
    Expr h = cast<uint32_t>(index) * Internal::make_const(UInt(32), (uint64_t)0x9E3779B1ull) + cast<uint32_t>(seed) * Internal::make_const(UInt(32), (uint64_t)0x85EBCA77ull) +
             cast<uint32_t>(step) * Internal::make_const(UInt(32), (uint64_t)0xC2B2AE3Dull);
    h = h ^ (h >> 16);
    h = h * Internal::make_const(UInt(32), (uint64_t)0x7FEB352Dull);
    h = h ^ (h >> 15);
    h = h * Internal::make_const(UInt(32), (uint64_t)0x846CA68Bull);
    h = h ^ (h >> 16);
    return cast<float>(h >> 8) * (1.0f / 16777216.0f);
}

class DropoutOp : public rt::Op {
  public:
    DropoutOp(const LowerContext& ctx, double rate, int channels, int64_t layer_seed)
        : rate_(static_cast<float>(rate)), ch_(channels), layer_seed_(layer_seed) {
        // out = select(keep, x / (1 - rate), 0): the same kernel serves forward (x) and backward (dy).
        kernel_ = ctx.cache.get(fmt::format("dropout|{}|{}", rate_, ch_), [&] {
            float keep_scale = 1.f / (1.f - rate_), rate = rate_;
            int ch = ch_;
            return elementwise(ch_, 1, 2, [=](const std::vector<ImageParam>& in, const std::vector<Param<int>>& p, Var c, Var i) {
                Expr u = uniform_hash(p[0], p[1], i * ch + c);
                return select(u >= rate, in[0](c, i) * keep_scale, 0.f);
            });
        });
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo& s) override {
        if (!s.training || rate_ == 0) {
            std::copy(x.data, x.data + x.size(), y.data);
            return;
        }
        kernel_->run({flat(x, ch_)}, {flat(y, ch_)}, {seed(s), static_cast<int>(s.step)});
    }
    void backward(const rt::View&, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo& s) override {
        if (!dx) return;
        if (rate_ == 0) {
            std::copy(dy.data, dy.data + dy.size(), dx->data);
            return;
        }
        kernel_->run({flat(dy, ch_)}, {flat(*dx, ch_)}, {seed(s), static_cast<int>(s.step)});
    }

  private:
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
        : ch_(static_cast<int>(scale.size())), reverse_(reverse) {
        std::string key = fmt::format("affine|{}|{}|{}", fmt::join(scale, ","), fmt::join(offset, ","), reverse);
        auto build = [&](bool backward) {
            return [=]() {
                int ch = ch_;
                return elementwise(ch_, 1, 0, [=](const std::vector<ImageParam>& in, const std::vector<Param<int>>&, Var c, Var i) {
                    // Per-channel constants as a select chain (no buffer to pass).
                    Expr s = scale[0], o = offset[0];
                    for (int k = 1; k < ch; ++k) {
                        s = select(c == k, scale[static_cast<size_t>(k)], s);
                        o = select(c == k, offset[static_cast<size_t>(k)], o);
                    }
                    Expr src = reverse ? in[0](ch - 1 - c, i) : in[0](c, i);
                    if (!backward) return src * s + o;
                    // dx[c'] = dy[c] * scale[c] with c' the source channel of c.
                    Expr sb = scale[0];
                    for (int k = 1; k < ch; ++k) sb = select((reverse ? ch - 1 - c : c) == k, scale[static_cast<size_t>(k)], sb);
                    return src * sb;
                });
            };
        };
        fwd_ = ctx.cache.get("fwd|" + key, build(false));
        bwd_ = ctx.cache.get("bwd|" + key, build(true));
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override { fwd_->run({flat(x, ch_)}, {flat(y, ch_)}); }
    void backward(const rt::View&, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo&) override {
        if (dx) bwd_->run({flat(dy, ch_)}, {flat(*dx, ch_)});
    }

  private:
    int ch_;
    bool reverse_;
    std::shared_ptr<Kernel> fwd_, bwd_;
};

}  // namespace

std::unique_ptr<rt::Op> lower_Activation(const LowerContext& ctx) {
    return std::make_unique<ActivationOp>(ctx, ctx.node.args.text("activation"), static_cast<int>(ctx.node.in.back()));
}

std::unique_ptr<rt::Op> lower_Dropout(const LowerContext& ctx) {
    int64_t layer_seed = ctx.node.args.is_none("seed") ? static_cast<int64_t>(std::hash<std::string>{}(ctx.path) & 0xffff)
                                                       : ctx.node.args.integer("seed");
    return std::make_unique<DropoutOp>(ctx, ctx.node.args.number("rate"), static_cast<int>(ctx.node.in.back()), layer_seed);
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

std::unique_ptr<rt::Op> lower_Flatten(const LowerContext&) { return std::make_unique<ViewOp>(); }
std::unique_ptr<rt::Op> lower_Reshape(const LowerContext&) { return std::make_unique<ViewOp>(); }

}  // namespace cnnc::engine
