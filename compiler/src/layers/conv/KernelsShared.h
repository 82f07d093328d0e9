// What the convolution's builders share across their files (Kernels.cpp, the direct kernels;
// KernelsWinograd.cpp, Winograd's forward and input gradient): the register tile's schedule, the
// padded input, a fused pooling's window and schedule, dL/dz. Halide types: the `kernels` layer only.
#pragma once
#include <Halide.h>

#include <functional>
#include <vector>

#include "kernels/KernelDef.h"
#include "kernels/Schedule.h"
#include "layers/conv/Config.h"

namespace cnnc::engine {

// The register-blocked schedule of `out(c, x, y, n) = acc(...)`, `acc` reducing over `red`
// (Kernels.cpp says how); returns the channel-tile loop.
Halide::Var register_tiled(Halide::Func out, Halide::Func acc, std::vector<Halide::RVar> red, const Tile& t,
                           bool weights_stationary = false);
// The input as the convolution reads it: src(ci, x, y, n) feeds output x from x * sx + kx * dx,
// the padding already applied (`padded`: whether it had to be, and src must be scheduled).
Halide::Func conv_source(const ConvCfg& c, Halide::ImageParam& in, bool& padded);
// The pooled rows one task of a pooling conv_fwd makes.
int pooled_rows_per_task(const ConvCfg& c);
// The schedule of a fused pooling's output (co, px, py, n): tasks of pooled rows, `block` pooled
// columns at a time; returns the block loop.
Halide::Var schedule_pooled(Halide::Func pooled, const ConvCfg& c, const Knobs& kn, int block);
// A fused pooling's window: (its maximum, the index of its first cell that holds it; -1 after a
// relu where none is positive), from cell(q), q in row-major window order.
Halide::Tuple window_max(const ConvCfg& c, const std::function<Halide::Expr(int)>& cell);

// dL/dz over the convolution's full-size output (co, x, y, n) from what its backward kernels read:
// y, dy (pooled, with `arg` the windows' argmax, where ConvCfg::pool_w) and the activation.
Halide::Func conv_dz(const ConvCfg& c, Halide::ImageParam& y, Halide::ImageParam& dy, Halide::Param<int>& logits, Halide::ImageParam& arg);

// A conv_bwd_x kernel's arguments, in the order the op passes them (OpKernels.cpp): the weights, y,
// dy, the input where the kernel applies its producer's activation (ConvCfg::input_act), the
// pooling's index where it pools, and `logits`. Both input-gradient builders take them from here.
struct InputGradientArgs {
    Halide::ImageParam w{Halide::Float(32), 4, "w"}, y{Halide::Float(32), 4, "y"}, dy{Halide::Float(32), 4, "dy"},
        in{Halide::Float(32), 4, "in"}, arg{Halide::Float(32), 4, "arg"};
    Halide::Param<int> logits{"logits"};
    // dL/dx at (ci, x, y, n) from the convolution's input gradient `g` there: times the producer's
    // activation derivative, from the input it made, where ConvCfg::input_act.
    Halide::Expr dx(const ConvCfg& c, const Halide::Expr& g, const Halide::Var& ci, const Halide::Var& x, const Halide::Var& y,
                    const Halide::Var& n);
    // The kernel whose pipeline is `dx`, with these arguments.
    KernelDef kernel(const ConvCfg& c, Halide::Func dx);
};

// Winograd's F(2x2, 3x3) forward and input gradient, where winograd_fits (Config.h).
KernelDef conv_forward_winograd(const ConvCfg& c, const Knobs& kn);
KernelDef conv_backward_input_winograd(const ConvCfg& c, const Knobs& kn);

}  // namespace cnnc::engine
