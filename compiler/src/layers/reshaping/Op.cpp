// The reshaping layers as ops. Flatten and Reshape: the network gives the next stage the same
// memory with a new shape, so they run no kernel at all. ZeroPadding2D and Cropping2D: the border
// kernel (Kernels.cpp) moves each image into its new size, and back for the gradient. UpSampling2D:
// the upsample kernels repeat each pixel, and sum each block back for the gradient.
#include "layers/reshaping/Config.h"
#include "layers/reshaping/LayerBorder.h"
#include "lower/Lowering.h"

namespace cnnc::engine {

namespace {

// An op whose output is its input reshaped.
struct ViewOp : rt::Op {
    void forward(const rt::View&, const rt::View&, const rt::StepInfo&) override {}
    void backward(const rt::View&, const rt::View&, const rt::View&, const rt::View*, bool, const rt::StepInfo&) override {}
    bool is_view() const override { return true; }
};

class BorderOp : public rt::Op {
  public:
    BorderOp(const LowerContext& ctx, BorderCfg c) : c_(c), cache_(&ctx.cache) { fwd_ = cache_->get(c_.spec()); }
    void prepare_backward(bool need_dx) override {
        if (need_dx) bwd_ = cache_->get(c_.inverse().spec());
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override {
        fwd_->run({image(x, c_.w, c_.h)}, {image(y, c_.ow, c_.oh)});
    }
    void backward(const rt::View&, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo&) override {
        if (dx) bwd_->run({image(dy, c_.ow, c_.oh)}, {image(*dx, c_.w, c_.h)});
    }

  private:
    Buf image(const rt::View& v, int w, int h) const { return to_halide(v, {v.shape[0], h, w, c_.c}); }
    BorderCfg c_;
    KernelCache* cache_;
    std::shared_ptr<Kernel> fwd_, bwd_;
};

class UpsampleOp : public rt::Op {
  public:
    UpsampleOp(const LowerContext& ctx, UpsampleCfg c) : c_(c), cache_(&ctx.cache) { fwd_ = cache_->get(c_.spec("upsample_fwd")); }
    void prepare_backward(bool need_dx) override {
        if (need_dx) bwd_ = cache_->get(c_.spec("upsample_bwd"));
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override { fwd_->run({small(x)}, {large(y)}); }
    void backward(const rt::View&, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo&) override {
        if (dx) bwd_->run({large(dy)}, {small(*dx)});
    }

  private:
    Buf small(const rt::View& v) const { return to_halide(v, {v.shape[0], c_.h, c_.w, c_.c}); }
    Buf large(const rt::View& v) const { return to_halide(v, {v.shape[0], c_.h * c_.sh, c_.w * c_.sw, c_.c}); }
    UpsampleCfg c_;
    KernelCache* cache_;
    std::shared_ptr<Kernel> fwd_, bwd_;
};

// The input moved by the border's (left, top): outward to pad (sign 1), inward to crop (-1).
std::unique_ptr<rt::Op> lower_border(const LowerContext& ctx, const char* arg, int sign) {
    const LayerNode& l = ctx.node;
    Border b = border(l.args.get(arg));
    BorderCfg c{static_cast<int>(l.in[2]),  static_cast<int>(l.in[1]),       static_cast<int>(l.in[0]),
                static_cast<int>(l.out[1]), static_cast<int>(l.out[0]),      sign * static_cast<int>(b.left),
                sign * static_cast<int>(b.top)};
    return std::make_unique<BorderOp>(ctx, c);
}

}  // namespace

std::unique_ptr<rt::Op> lower_Flatten(const LowerContext&) { return std::make_unique<ViewOp>(); }
std::unique_ptr<rt::Op> lower_Reshape(const LowerContext&) { return std::make_unique<ViewOp>(); }
std::unique_ptr<rt::Op> lower_ZeroPadding2D(const LowerContext& ctx) { return lower_border(ctx, "padding", 1); }
std::unique_ptr<rt::Op> lower_Cropping2D(const LowerContext& ctx) { return lower_border(ctx, "cropping", -1); }

std::unique_ptr<rt::Op> lower_UpSampling2D(const LowerContext& ctx) {
    const LayerNode& l = ctx.node;
    auto size = l.args.ints("size");
    UpsampleCfg c{static_cast<int>(l.in[2]),  static_cast<int>(l.in[1]),  static_cast<int>(l.in[0]),
                  static_cast<int>(size[1]), static_cast<int>(size[0]), l.args.text("interpolation") == "bilinear"};
    return std::make_unique<UpsampleOp>(ctx, c);
}

}  // namespace cnnc::engine
