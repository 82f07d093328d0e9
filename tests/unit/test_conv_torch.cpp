// The conv family's new layers against PyTorch (bench/conv_parity_torch.py, which rebuilds each
// layer from torch's convolutions in float64 with Keras' padding and output-size rules written
// out): the forward pass, dL/dx and every weight's gradient, for a loss sum(y * r). Covers
// DepthwiseConv2D, SeparableConv2D, Conv2DTranspose ('same' and stride 2, output_padding, valid),
// grouped Conv2D/Conv1D and the causal Conv1D.
#include <filesystem>
#include <fstream>

#include "EngineHelpers.h"
#include "TempDir.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

void put(const std::filesystem::path& d, std::ofstream& manifest, const std::string& name, const rt::View& v) {
    std::ofstream(d / (name + ".f32"), std::ios::binary)
        .write(reinterpret_cast<const char*>(v.data), static_cast<std::streamsize>(v.size() * sizeof(float)));
    manifest << name;
    for (int64_t n : v.shape) manifest << " " << n;
    manifest << "\n";
}

// Runs `layer` on a random batch of `input` forward and backward and writes the case to `d`.
void write_case(const std::filesystem::path& d, const std::string& input, const std::string& layer) {
    std::filesystem::create_directories(d);
    Built b = build(fmt::format("model t {{ input({}) {} }}", input, layer));
    rt::Op& op = *b.net->stages().at(0).op;
    const int64_t n = 2;
    rt::Rng rng(5);
    rt::Dims in = {n}, out = {n};
    for (int64_t v : b.net->input_shape()) in.push_back(v);
    for (int64_t v : b.model().layers[0].out.dims) out.push_back(v);
    rt::Tensor x(in), dx(in), y(out), r(out);
    fill_uniform(x.data(), x.size(), rng, -1, 1);
    fill_uniform(r.data(), r.size(), rng, -1, 1);
    for (rt::Param& p : op.params) fill_uniform(p.value.data(), p.value.size(), rng, -0.5, 0.5);
    rt::StepInfo s{true, 1, 1};
    op.prepare_backward(true);
    op.forward(x.view(), y.view(), s);
    rt::View dxv = dx.view();
    op.backward(x.view(), y.view(), r.view(), &dxv, false, s);
    std::ofstream(d / "layer.txt") << layer << "\n";
    std::ofstream manifest(d / "manifest.txt");
    put(d, manifest, "x", x.view()), put(d, manifest, "r", r.view()), put(d, manifest, "y", y.view());
    put(d, manifest, "dx", dx.view());
    for (size_t i = 0; i < op.params.size(); ++i)
        put(d, manifest, "p" + std::to_string(i), op.params[i].value.view()), put(d, manifest, "g" + std::to_string(i), op.params[i].grad.view());
}

}  // namespace

TEST_CASE("the conv family's layers agree with PyTorch: outputs, shapes and gradients", "[conv][gradients][torch]") {
    if (run_shell("/usr/bin/python3 -c 'import torch' 2>&1").status != 0) skip("PyTorch is not installed (python3-torch)");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"7, 6, 3", "DepthwiseConv2D(3, padding = same, depth_multiplier = 2, activation = tanh)"},
        {"8, 8, 4", "DepthwiseConv2D(3, strides = 2, padding = same)"},
        {"9, 9, 16", "DepthwiseConv2D((3, 2), dilation_rate = 2, use_bias = false)"},
        {"6, 6, 3", "SeparableConv2D(5, 3, padding = same, depth_multiplier = 2, activation = relu)"},
        {"9, 8, 2", "SeparableConv2D(4, (3, 2), strides = 2, use_bias = false)"},
        {"5, 4, 3", "Conv2DTranspose(4, 3, strides = 2, padding = same)"},
        {"4, 3, 3", "Conv2DTranspose(2, 4, strides = 2, padding = same, output_padding = 1, activation = tanh)"},
        {"3, 3, 2", "Conv2DTranspose(3, 2, strides = 3)"},
        {"4, 4, 2", "Conv2DTranspose(3, 3, padding = same, dilation_rate = 2, use_bias = false)"},
        {"7, 7, 6", "Conv2D(6, 3, strides = 2, padding = same, groups = 3)"},
        {"6, 6, 8", "Conv2D(4, 3, groups = 2, activation = relu)"},
        {"10, 3", "Conv1D(4, 3, padding = causal, dilation_rate = 2)"},
        {"9, 2", "Conv1D(3, 2, strides = 2, padding = causal, activation = tanh)"},
        {"8, 4", "Conv1D(6, 3, groups = 2)"},
    };
    TempDir dir;
    for (size_t i = 0; i < cases.size(); ++i)
        write_case(std::filesystem::path(dir.path()) / fmt::format("case{:02}", i), cases[i].first, cases[i].second);
    CommandResult r = run_shell("/usr/bin/python3 '" + root() + "/bench/conv_parity_torch.py' '" + dir.path() + "' 2>&1");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("agree"));
}
