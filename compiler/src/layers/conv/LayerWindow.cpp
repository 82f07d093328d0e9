#include "layers/conv/LayerWindow.h"

#include <fmt/format.h>

namespace cnnc::conv_window {
using namespace layer_util;

std::vector<ParamSpec> window_params(int rank, std::vector<std::string> paddings) {
    return {required("kernel_size", ArgType::Size).dims(rank).min(1),
            optional("strides", ArgType::Size, I(1)).dims(rank).min(1),
            optional("padding", ArgType::Name, N("valid")).one_of(std::move(paddings))};
}

std::vector<ParamSpec> format_and_dilation(int rank) {
    return {optional("data_format", ArgType::Name, N("channels_last")).one_of({"channels_last"}),
            optional("dilation_rate", ArgType::Size, I(1)).dims(rank).min(1)};
}

std::string strides_with_dilation(const BoundArgs& a) {
    bool strided = false, dilated = false;
    for (auto s : a.ints("strides")) strided |= s > 1;
    for (auto d : a.ints("dilation_rate")) dilated |= d > 1;
    if (strided && dilated) return "strides > 1 cannot be combined with dilation_rate > 1";
    return "";
}

const char* axes_text(int rank) { return rank == 2 ? "(height, width, channels)" : "(steps, channels)"; }

ShapeResult window_shape(const BoundArgs& a, const Shape& in, int rank, int64_t channels) {
    if (static_cast<int>(in.rank()) != rank + 1)
        return ShapeResult::fail(fmt::format("expects a {}-D input {}, got {}", rank + 1, axes_text(rank), in));
    auto ks = a.ints("kernel_size"), st = a.ints("strides"), dl = a.ints("dilation_rate");
    // 'causal' (Conv1D) pads dilation * (k - 1) on the left: as many outputs as 'same'.
    bool same = a.text("padding") != "valid";
    Shape out;
    std::vector<int64_t> spatial(in.dims.begin(), in.dims.end() - 1);
    for (size_t d = 0; d < static_cast<size_t>(rank); ++d) {
        int64_t o = window_out(in[d], ks[d], st[d], dl[d], same);
        if (o < 1)
            return ShapeResult::fail(
                fmt::format("kernel {} does not fit the {} input with padding = valid", dims_text(ks), dims_text(spatial)));
        out.dims.push_back(o);
    }
    out.dims.push_back(channels);
    return ShapeResult::ok(out);
}

}  // namespace cnnc::conv_window
