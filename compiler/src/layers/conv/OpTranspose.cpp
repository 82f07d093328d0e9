// Conv2DTranspose as an op. Take the convolution that maps the layer's output to its input (the
// "adjoint" convolution: same kernel, strides and dilation; its padding from Keras' rule below).
// The layer's forward is that convolution's input-gradient (conv_t_fwd, with the layer's bias and
// activation); its input-gradient is that convolution's forward; its kernel-gradient is that
// convolution's kernel-gradient with input and output exchanged. Keras' kernel (kh, kw, filters,
// C_in) is already the adjoint convolution's kernel layout (kh, kw, its input, its output).
#include <algorithm>

#include "layers/conv/OpConv.h"

namespace cnnc::engine {

namespace {

// Where the layer's output starts in the full scatter of its input (output X takes input pixel o
// through tap j when X = o*s + j*d - before): Keras' padding, as its JAX and TensorFlow backends
// apply it (backend_utils._convert_conv_transpose_padding_args_from_keras_to_jax gives the left
// pad of the stride-dilated input; before = span - 1 - left). output_padding < 0: None.
int transpose_pad_before(int k, int s, int d, bool same, int output_padding) {
    const int span = (k - 1) * d + 1;
    if (!same) return 0;
    const int pad_len = output_padding < 0 ? s + span - 2 : span + span % 2 - 2 + output_padding;
    return span - 1 - std::min(pad_len / 2 + pad_len % 2, span - 1);
}

Buf flat(const rt::View& v, int channels) { return to_halide(v, {v.size() / channels, channels}); }

class TransposeOp : public rt::Op {
  public:
    // `adjoint`: the convolution from the layer's output to its input, without bias or activation.
    TransposeOp(const LowerContext& ctx, const ConvCfg& adjoint, bool bias, const std::string& act)
        : adjoint_(ctx.cache, adjoint), act_(act), cache_(&ctx.cache) {
        params = make_params(ctx);
        ConvCfg layer = adjoint;
        layer.bias = bias, layer.act = act;
        fwd_ = ctx.cache.get(layer.spec("conv_t_fwd"));
        zero_bias_ = rt::Tensor({adjoint.ci});
        zero_bias_.fill(0);
    }
    bool owns_activation() const override { return true; }
    void prepare_backward(bool need_dx) override {
        adjoint_.prepare_backward(params[0].trainable, false);
        if (need_dx) adjoint_.prepare_forward();
        if (act_ != "linear") act_bwd_ = cache_->get(KernelSpec("act_bwd").set("act", act_).set("c", filters()));
    }

    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo&) override {
        const ConvCfg& a = adjoint_.cfg();
        rt::View b = bias() ? bias()->value.view() : zero_bias_.view();
        fwd_->run({ConvKernels::image(x, a.co, a.ow, a.oh), adjoint_.kernel(params[0].value.view()), to_halide(b)},
                  {ConvKernels::image(y, a.ci, a.w, a.h)});
    }

    void backward(const rt::View& x, const rt::View& y, const rt::View& dy, const rt::View* dx, bool logits,
                  const rt::StepInfo&) override {
        rt::View dz = dy;
        if (!logits && act_ != "linear") {
            dz_.resize(dy.shape);
            act_bwd_->run({flat(y, filters()), flat(dy, filters())}, {flat(dz_.view(), filters())}, {0});
            dz = dz_.view();
        }
        // The adjoint's kernel-gradient reads its input (our dz) and its output's dL/dz (our x).
        if (params[0].trainable) adjoint_.weight_gradient(dz, x, x, params[0].grad.view(), nullptr, false);
        if (bias() && bias()->trainable) bias_gradient(dz, bias()->grad.view());
        if (dx) adjoint_.forward(dz, params[0].value.view(), nullptr, *dx);
    }

  private:
    // dL/dbias: dz summed over every position of every image (one pass, memory-bound).
    void bias_gradient(const rt::View& dz, const rt::View& db) const {
        const int f = filters();
        std::fill(db.data, db.data + f, 0.f);
        for (int64_t i = 0; i < dz.size(); i += f)
            for (int c = 0; c < f; ++c) db.data[c] += dz.data[i + c];
    }
    int filters() const { return adjoint_.cfg().ci; }
    rt::Param* bias() { return params.size() > 1 ? &params[1] : nullptr; }

    ConvKernels adjoint_;
    std::string act_;
    KernelCache* cache_;
    std::shared_ptr<Kernel> fwd_, act_bwd_;
    rt::Tensor zero_bias_, dz_;
};

}  // namespace

std::unique_ptr<rt::Op> lower_Conv2DTranspose(const LowerContext& ctx) {
    const LayerNode& l = ctx.node;
    const BoundArgs& a = l.args;
    auto ks = a.ints("kernel_size"), st = a.ints("strides"), dl = a.ints("dilation_rate");
    std::vector<int64_t> op = a.is_none("output_padding") ? std::vector<int64_t>{-1, -1} : a.ints("output_padding");
    bool same = a.text("padding") == "same";
    ConvCfg c;  // the adjoint convolution: from the layer's output (size, filters) to its input
    c.ci = static_cast<int>(l.out[2]), c.h = static_cast<int>(l.out[0]), c.w = static_cast<int>(l.out[1]);
    c.co = static_cast<int>(l.in[2]), c.oh = static_cast<int>(l.in[0]), c.ow = static_cast<int>(l.in[1]);
    c.kh = static_cast<int>(ks[0]), c.kw = static_cast<int>(ks[1]);
    c.sy = static_cast<int>(st[0]), c.sx = static_cast<int>(st[1]);
    c.dy = static_cast<int>(dl[0]), c.dx = static_cast<int>(dl[1]);
    c.pt = transpose_pad_before(c.kh, c.sy, c.dy, same, static_cast<int>(op[0]));
    c.pl = transpose_pad_before(c.kw, c.sx, c.dx, same, static_cast<int>(op[1]));
    c.bias = false, c.act = "linear";
    return std::make_unique<TransposeOp>(ctx, c, a.flag("use_bias"), fused_activation(l));
}

}  // namespace cnnc::engine
