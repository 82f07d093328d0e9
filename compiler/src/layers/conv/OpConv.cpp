#include "layers/conv/OpConv.h"

namespace cnnc::engine {

ConvCfg window_cfg(const LayerNode& l, int rank, int co) {
    const BoundArgs& a = l.args;
    auto ks = a.ints("kernel_size"), st = a.ints("strides"), dl = a.ints("dilation_rate");
    ConvCfg c;
    c.ci = static_cast<int>(l.in.back());
    c.co = co;
    if (rank == 2) {
        c.h = static_cast<int>(l.in[0]), c.w = static_cast<int>(l.in[1]);
        c.oh = static_cast<int>(l.out[0]), c.ow = static_cast<int>(l.out[1]);
        c.kh = static_cast<int>(ks[0]), c.kw = static_cast<int>(ks[1]);
        c.sy = static_cast<int>(st[0]), c.sx = static_cast<int>(st[1]);
        c.dy = static_cast<int>(dl[0]), c.dx = static_cast<int>(dl[1]);
    } else {
        c.h = c.oh = 1, c.kh = 1, c.sy = 1, c.dy = 1;
        c.w = static_cast<int>(l.in[0]), c.ow = static_cast<int>(l.out[0]);
        c.kw = static_cast<int>(ks[0]), c.sx = static_cast<int>(st[0]), c.dx = static_cast<int>(dl[0]);
    }
    bool same = a.text("padding") == "same";
    c.pl = same ? same_pad_before(c.w, c.ow, c.kw, c.sx, c.dx) : 0;
    c.pt = same ? same_pad_before(c.h, c.oh, c.kh, c.sy, c.dy) : 0;
    c.bias = a.flag("use_bias");
    c.act = fused_activation(l);
    return c;
}

}  // namespace cnnc::engine
