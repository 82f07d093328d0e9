#include "layers/conv/OpKernels.h"

#include <algorithm>

namespace cnnc::engine {

int same_pad_before(int n, int out, int k, int s, int d) { return std::max((out - 1) * s + (k - 1) * d + 1 - n, 0) / 2; }

void ConvKernels::prepare_forward() {
    fwd_ = cache_->get(cfg_.spec("conv_fwd"));
    zero_bias_ = rt::Tensor({cfg_.co});
    zero_bias_.fill(0);
}

void ConvKernels::set_output_pooling(int pw, int ph) {
    if (pw == cfg_.pool_w && ph == cfg_.pool_h) return;
    cfg_.pool_w = pw, cfg_.pool_h = ph;
    fwd_ = bwd_w_ = bwd_x_ = nullptr;
}

void ConvKernels::prepare_backward(bool weights, bool input, bool given_dz) {
    db_scratch_ = rt::Tensor({cfg_.co});
    ConvCfg c = cfg_;
    if (given_dz) c.act = "linear";
    bwd_w_ = weights ? cache_->get(c.spec("conv_bwd_w")) : nullptr;
    bwd_x_ = input ? cache_->get(c.spec("conv_bwd_x")) : nullptr;
}

Buf ConvKernels::image(const rt::View& v, int c, int w, int h) { return to_halide(v, {v.shape[0], h, w, c}); }

Buf ConvKernels::kernel(const rt::View& v) const { return to_halide(v, {cfg_.kh, cfg_.kw, cfg_.in_per_group(), cfg_.co}); }

void ConvKernels::forward(const rt::View& x, const rt::View& kernel_value, const rt::View* bias, const rt::View& y) {
    if (!fwd_) prepare_forward();
    std::vector<Buf> out = {output(y)};
    if (cfg_.pool_w > 0) {
        argmax_.resize(y.shape);
        out.push_back(output(argmax_.view()));
    }
    fwd_->run({image(x, cfg_.ci, cfg_.w, cfg_.h), kernel(kernel_value), to_halide(bias ? *bias : zero_bias_.view())}, out);
}

void ConvKernels::weight_gradient(const rt::View& x, const rt::View& y, const rt::View& dy, const rt::View& dkernel,
                                  const rt::View* dbias, bool logits) {
    std::vector<Buf> in = {image(x, cfg_.ci, cfg_.w, cfg_.h), output(y), output(dy)};
    if (cfg_.pool_w > 0) in.push_back(output(argmax_.view()));
    bwd_w_->run(in, {to_halide(dkernel, {cfg_.in_per_group() * cfg_.kw * cfg_.kh, cfg_.co}), to_halide(dbias ? *dbias : db_scratch_.view())},
                {logits ? 1 : 0});
}

void ConvKernels::input_gradient(const rt::View& kernel_value, const rt::View& x, const rt::View& y, const rt::View& dy,
                                 const rt::View& dx, bool logits) {
    std::vector<Buf> in = {kernel(kernel_value), output(y), output(dy)};
    if (!cfg_.input_act.empty()) in.push_back(image(x, cfg_.ci, cfg_.w, cfg_.h));
    if (cfg_.pool_w > 0) in.push_back(output(argmax_.view()));
    bwd_x_->run(in, {image(dx, cfg_.ci, cfg_.w, cfg_.h)}, {logits ? 1 : 0});
}

}  // namespace cnnc::engine
