// BatchNormalization and LayerNormalization against an independent reference:
// tests/reference/normalization.py recomputes, in float64 with Keras 3's rules written out (and
// torch's autograd through them for the gradients), the outputs, dL/dx, dL/dgamma, dL/dbeta and
// the moving statistics after k training steps, from the same weights and batches.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "EngineHelpers.h"
#include "TempDir.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

// Builds `layer` on `input`, runs `steps` forward passes on random batches of `n` (training or
// not), then one backward pass of a random dy from the last, and has the reference check it all.
void check_against_reference(const std::string& input, const std::string& layer, int64_t n, int steps, bool training) {
    if (run_shell("/usr/bin/python3 -c 'import numpy, torch' 2>&1").status != 0) skip("numpy or PyTorch is missing (python3-torch)");
    Built b = build(fmt::format("model t {{ input({}) {} }}", input, layer), 3);
    const LayerNode& l = b.model().layers.at(0);
    rt::Op& op = *b.net->stages().at(0).op;
    rt::Rng rng(7);
    for (rt::Param& p : op.params)  // variances positive; the moving ones away from 1 so a wrong one shows
        fill_uniform(p.value.data(), p.value.size(), rng, p.name.find("variance") != std::string::npos ? 0.5 : -1.5, 1.5);
    b.net->prepare(n, true);

    TempDir dir;
    const std::filesystem::path d = dir.path();
    std::ofstream manifest(d / "manifest.txt");
    auto put = [&](const std::string& name, const float* data, const rt::Dims& dims) {
        std::ofstream(d / (name + ".f32"), std::ios::binary)
            .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(rt::product(dims) * sizeof(float)));
        manifest << name;
        for (int64_t v : dims) manifest << " " << v;
        manifest << "\n";
    };
    auto leaf = [](const rt::Param& p) { return p.name.substr(p.name.rfind('/') + 1); };
    for (const rt::Param& p : op.params) put("p_" + leaf(p), p.value.data(), p.value.shape());
    manifest << fmt::format("config kind={} axis={} epsilon={} momentum={} training={} trainable={} steps={}\n", l.type,
                            l.args.integer("axis"), l.args.number("epsilon"), l.args.has("momentum") ? l.args.number("momentum") : 0.0,
                            training ? 1 : 0, l.args.flag("trainable") ? 1 : 0, steps);

    rt::Dims dims = {n};
    for (int64_t v : l.in.dims) dims.push_back(v);
    rt::Tensor x(dims), dy(dims), dx(dims);
    rt::View y;
    for (int k = 0; k < steps; ++k) {
        fill_uniform(x.data(), x.size(), rng, -2, 3);  // a mean away from 0
        y = b.net->forward(x.view(), rt::StepInfo{training, 1, k});
        put(fmt::format("x{}", k), x.data(), dims);
    }
    rt::Tensor yt(dims);
    std::copy(y.data, y.data + y.size(), yt.data());
    fill_uniform(dy.data(), dy.size(), rng, -1, 1);
    rt::View dxv = dx.view();
    op.backward(x.view(), yt.view(), dy.view(), &dxv, false, rt::StepInfo{training, 1, steps - 1});
    put("y", yt.data(), dims), put("dy", dy.data(), dims), put("dx", dx.data(), dims);
    for (const rt::Param& p : op.params) {
        if (p.trainable) put("g_" + leaf(p), p.grad.data(), p.grad.shape());
        if (p.state) put("final_" + leaf(p), p.value.data(), p.value.shape());
    }
    manifest.close();
    CommandResult r = run_shell("/usr/bin/python3 '" + root() + "/tests/reference/normalization.py' '" + d.string() + "' 2>&1");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("agree"));
}

}  // namespace

TEST_CASE("BatchNormalization in training: outputs, gradients and the moving averages after 3 steps, as Keras", "[normalization][reference]") {
    SECTION("channels last") { check_against_reference("5, 5, 8", "BatchNormalization(momentum = 0.9)", 6, 3, true); }
    SECTION("after Dense, defaults") { check_against_reference("16", "BatchNormalization()", 10, 3, true); }
    SECTION("axis = 2 (positions after it), no beta") {
        check_against_reference("3, 4, 2", "BatchNormalization(axis = 2, center = false, epsilon = 0.01)", 4, 2, true);
    }
}

TEST_CASE("a frozen BatchNormalization normalizes with its moving statistics in training and leaves them alone", "[normalization][reference]") {
    check_against_reference("4, 4, 6", "BatchNormalization(trainable = false)", 3, 2, true);
}

TEST_CASE("BatchNormalization in inference uses the moving statistics", "[normalization][reference]") {
    check_against_reference("4, 4, 6", "BatchNormalization()", 3, 1, false);
}

TEST_CASE("LayerNormalization: outputs and gradients, as Keras", "[normalization][reference]") {
    SECTION("last axis") { check_against_reference("5, 12", "LayerNormalization()", 4, 1, true); }
    SECTION("axis = 1 of three, no gamma") { check_against_reference("6, 3, 2", "LayerNormalization(axis = 1, scale = false)", 3, 1, true); }
}
