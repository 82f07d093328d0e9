// What the convolution records share (Conv*, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose):
// Keras' sliding-window arguments, their cross-check and the shape of the window's output. Their
// positional order differs from layer to layer in Keras, so each record places them itself.
#pragma once
#include <string>
#include <vector>

#include "layers/Layer.h"

namespace cnnc::conv_window {

// kernel_size, strides and padding (Keras' first window arguments, in this order); `paddings`
// names the accepted modes ("valid", "same", and "causal" for Conv1D).
std::vector<ParamSpec> window_params(int rank, std::vector<std::string> paddings = {"valid", "same"});
// data_format (channels last only) and dilation_rate, which follow in every record.
std::vector<ParamSpec> format_and_dilation(int rank);
// Keras' BaseConv rule: strides > 1 cannot be combined with dilation_rate > 1. "" when fine.
std::string strides_with_dilation(const BoundArgs& a);
// The spatial output of the window over an input of `rank` spatial axes then channels, with
// `channels` output channels; fails for an input of another rank or a window that does not fit.
ShapeResult window_shape(const BoundArgs& a, const Shape& in, int rank, int64_t channels);
// The (rank + 1)-D input's description for messages: "(height, width, channels)".
const char* axes_text(int rank);

}  // namespace cnnc::conv_window
