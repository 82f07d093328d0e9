// RandomFlip, RandomRotation, RandomZoom: in training each image gets its own random affine map
// from output to input pixels (Keras 3's transforms: rotation about the centre by a fraction of a
// full turn, zoom about the centre where a positive factor zooms out, flips), applied by one Halide
// warp kernel (Kernels.cpp) with Keras' fill modes (reflect, wrap, nearest, constant) and bilinear or nearest
// sampling. The maps are drawn on the CPU from (seed, step, layer, image), so a run is repeatable
// and each epoch sees new transforms. Outside training the layers are the identity.
#include <cmath>

#include "Error.h"
#include "lower/Lowering.h"
#include "train/Random.h"

namespace cnnc::engine {

namespace {

// A factor f means [-f, f]; a pair (lo, hi) is taken as is.
void factor_range(const Value& v, double& lo, double& hi) {
    if (v.is_number()) lo = -v.as_double(), hi = v.as_double();
    else lo = v.items.at(0).as_double(), hi = v.items.at(1).as_double();
}

class AugmentationOp : public rt::Op {
  public:
    AugmentationOp(const LowerContext& ctx) : node_(ctx.node), id_(std::hash<std::string>{}(ctx.path)) {
        const BoundArgs& a = node_.args;
        c_ = static_cast<int>(node_.in[2]), w_ = static_cast<int>(node_.in[1]), h_ = static_cast<int>(node_.in[0]);
        bool flip = node_.kind->name == "RandomFlip";
        std::string fill = flip ? "reflect" : a.text("fill_mode");
        bool nearest = flip || a.text("interpolation") == "nearest";
        float fill_value = flip ? 0.f : static_cast<float>(a.number("fill_value"));
        if (!a.is_none("seed")) id_ = static_cast<uint64_t>(a.integer("seed"));
        kernel_ = ctx.cache.get(
            KernelSpec("warp").set("c", c_).set("w", w_).set("h", h_).set("fill", fill).set("nearest", nearest).set("fill_value", fill_value));
    }
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo& s) override {
        if (!s.training) {
            std::copy(x.data, x.data + x.size(), y.data);
            return;
        }
        int64_t n = x.shape[0];
        maps_.resize({n, 6});
        for (int64_t i = 0; i < n; ++i) draw(rt::Rng(rt::derive_seed(s.seed ^ id_, static_cast<uint64_t>(s.step), static_cast<uint64_t>(s.first_sample + i))), maps_.data() + i * 6);
        kernel_->run({to_halide(x), to_halide(maps_.view())}, {to_halide(y)});
    }
    void backward(const rt::View&, const rt::View&, const rt::View& dy, const rt::View* dx, bool, const rt::StepInfo& s) override {
        if (!dx) return;
        if (s.training)
            throw rt::UserError(node_.kind->name + " after a trainable layer: its gradient is not supported; put augmentation first");
        std::copy(dy.data, dy.data + dy.size(), dx->data);
    }
    // The output → input map of one image: x_in = m0 x + m1 y + m2, y_in = m3 x + m4 y + m5.
    void draw(rt::Rng rng, float* m) const {
        const BoundArgs& a = node_.args;
        double W = w_ - 1.0, H = h_ - 1.0;
        double t[6] = {1, 0, 0, 0, 1, 0};
        const std::string& kind = node_.kind->name;
        if (kind == "RandomFlip") {
            const std::string& mode = a.text("mode");
            if (mode != "vertical" && rng.uniform() < 0.5) t[0] = -1, t[2] = W;
            if (mode != "horizontal" && rng.uniform() < 0.5) t[4] = -1, t[5] = H;
        } else if (kind == "RandomRotation") {
            double lo, hi;
            factor_range(a.get("factor"), lo, hi);
            double angle = rng.uniform(lo, hi) * 2 * M_PI, cs = std::cos(angle), sn = std::sin(angle);
            // Keras: rotation about the image centre, mapping output to input.
            t[0] = cs, t[1] = -sn, t[2] = (W - (cs * W - sn * H)) / 2;
            t[3] = sn, t[4] = cs, t[5] = (H - (sn * W + cs * H)) / 2;
        } else {  // RandomZoom: factors in [1 + lo, 1 + hi]; width follows height unless given
            double lo, hi;
            factor_range(a.get("height_factor"), lo, hi);
            double zy = 1 + rng.uniform(lo, hi), zx = zy;
            if (!a.is_none("width_factor")) {
                double wl, wh;
                factor_range(a.get("width_factor"), wl, wh);
                zx = 1 + rng.uniform(wl, wh);
            }
            t[0] = zx, t[2] = W / 2 * (1 - zx);
            t[4] = zy, t[5] = H / 2 * (1 - zy);
        }
        for (int k = 0; k < 6; ++k) m[k] = static_cast<float>(t[k]);
    }

  private:
    LayerNode node_;  // a copy: the op must not depend on the Program's lifetime
    uint64_t id_;
    int c_ = 0, w_ = 0, h_ = 0;
    std::shared_ptr<Kernel> kernel_;
    rt::Tensor maps_;
};

}  // namespace

std::unique_ptr<rt::Op> lower_RandomFlip(const LowerContext& ctx) { return std::make_unique<AugmentationOp>(ctx); }
std::unique_ptr<rt::Op> lower_RandomRotation(const LowerContext& ctx) { return std::make_unique<AugmentationOp>(ctx); }
std::unique_ptr<rt::Op> lower_RandomZoom(const LowerContext& ctx) { return std::make_unique<AugmentationOp>(ctx); }

}  // namespace cnnc::engine
