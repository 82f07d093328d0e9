// A convolution's kernels as the conv family's ops run them: forward, and the gradients of the
// weights and of the input, each on the runtime's (N, H, W, C) tensors. Conv1D/Conv2D and
// DepthwiseConv2D are one of these; SeparableConv2D chains two (depthwise, then 1x1);
// Conv2DTranspose runs a convolution's kernels with input and output exchanged.
#pragma once
#include <memory>

#include "layers/conv/Config.h"
#include "net/Op.h"

namespace cnnc::engine {

// Keras 'same': the total padding is what makes ceil(n / s) outputs, the odd pixel after.
int same_pad_before(int n, int out, int k, int s, int d);

class ConvKernels {
  public:
    ConvKernels(KernelCache& cache, ConvCfg cfg) : cfg_(std::move(cfg)), cache_(&cache) {}
    // Compile the kernels an op will run (an op using only some of them asks for those only).
    void prepare_forward();
    // Before prepare_forward: the tiled max pooling the kernels apply to the output (rt::Op::
    // set_output_pooling; zeros: none). y and dy are then the pooled output and its gradient.
    void set_output_pooling(int pw, int ph);
    // With `given_dz`, every backward's dy is dL/dz already (Op::set_preactivation_gradient): the
    // kernels are then those of the same convolution without an activation, which never read y.
    void prepare_backward(bool weights, bool input, bool given_dz = false);
    // y = conv(x; kernel, bias) with the configuration's activation; no bias when `bias` is null.
    void forward(const rt::View& x, const rt::View& kernel, const rt::View* bias, const rt::View& y);
    // dL/dkernel (Keras' layout) and dL/dbias (when non-null) from x and the output's y and dy
    // (dy already dL/dz when `logits`).
    void weight_gradient(const rt::View& x, const rt::View& y, const rt::View& dy, const rt::View& dkernel,
                         const rt::View* dbias, bool logits);
    // dL/dx from the kernel and the output's y and dy; `x`, the input, is read where dL/dx takes
    // its producer's activation derivative (set_input_activation).
    void input_gradient(const rt::View& kernel, const rt::View& x, const rt::View& y, const rt::View& dy, const rt::View& dx,
                        bool logits);
    // Before prepare_backward: the activation whose derivative dL/dx is multiplied by ("" none).
    void set_input_activation(const std::string& act) { cfg_.input_act = act; }
    const ConvCfg& cfg() const { return cfg_; }

    // A (N, H, W, C) or (N, steps, C) tensor as Halide (C, W, H, N).
    static Buf image(const rt::View& v, int c, int w, int h);
    // A kernel in Keras' layout (kh, kw, C_in / groups, C_out) as Halide (C_out, C_in / groups, kw, kh).
    Buf kernel(const rt::View& v) const;

  private:
    ConvCfg cfg_;
    KernelCache* cache_;
    // The images y and dy as the kernels read them: the pooled output's where pooling is fused.
    Buf output(const rt::View& v) const { return image(v, cfg_.co, cfg_.pooled_w(), cfg_.pooled_h()); }
    std::shared_ptr<Kernel> fwd_, bwd_w_, bwd_x_;
    rt::Tensor zero_bias_, db_scratch_;  // for a convolution without bias
    rt::Tensor argmax_;  // with a fused pooling: each window's first maximum, from the last forward
};

}  // namespace cnnc::engine
