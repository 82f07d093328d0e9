// What the conv family's ops share besides ConvKernels: the ConvCfg of a layer's sliding window.
#pragma once
#include "layers/conv/OpKernels.h"
#include "lower/Lowering.h"

namespace cnnc::engine {

// The ConvCfg of a convolution-shaped layer's window (kernel_size, strides, dilation_rate,
// padding valid or same; rank 1 as height 1) from its input to `co` output channels at its output
// size, with its bias and fused activation; no groups.
ConvCfg window_cfg(const LayerNode& l, int rank, int co);

}  // namespace cnnc::engine
