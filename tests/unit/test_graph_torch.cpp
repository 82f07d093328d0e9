// A two-branch model's whole gradient against PyTorch's from the same weights and batch
// (bench/graph_parity_torch.py builds the same model in float64 and compares).
#include <filesystem>
#include <fstream>

#include "EngineHelpers.h"
#include "TempDir.h"
#include "sema/Written.h"
#include "train/Loss.h"

using namespace cnnc;
using namespace cnnc::test;

TEST_CASE("a two-branch residual model's gradient equals PyTorch's from the same weights", "[graph][gradients][torch]") {
    if (run_shell("/usr/bin/python3 -c 'import torch' 2>&1").status != 0) skip("PyTorch is not installed (python3-torch)");
    Built b = build(R"(model two {
        input(6, 6, 2)
        Conv2D(4, 3, padding = same, activation = relu)
        residual { Conv2D(4, 3, padding = same, activation = relu) }
        Concatenate {
            branch { Conv2D(3, 1, activation = tanh) }
            branch { MaxPooling2D(2, strides = 1, padding = same) }
        }
        GlobalAveragePooling2D()
        Dense(3, activation = softmax)
    })", 12);
    const int64_t n = 4;
    b.net->prepare(n, true);
    rt::Rng rng(3);
    rt::Tensor x({n, 6, 6, 2}), y({n, 3});
    fill_uniform(x.data(), x.size(), rng, -1, 1);
    y.fill(0);
    for (int64_t i = 0; i < n; ++i) y[i * 3 + (i % 3)] = 1;
    rt::StepInfo s{true, 1, 1};
    rt::View out = b.net->forward(x.view(), s);
    rt::Tensor g(out.shape), loss({1});
    loss[0] = static_cast<float>(rt::compute_loss(make_loss({"categorical_crossentropy"}), out, y.view(), g.data(), true));
    b.net->backward(g.view(), true, s);

    TempDir dir;
    const std::filesystem::path d = dir.path();
    std::ofstream manifest(d / "manifest.txt");
    auto put = [&](const std::string& name, const rt::Tensor& t) {
        std::ofstream(d / (name + ".f32"), std::ios::binary)
            .write(reinterpret_cast<const char*>(t.data()), static_cast<std::streamsize>(t.size() * sizeof(float)));
        manifest << name;
        for (int64_t d : t.shape()) manifest << " " << d;
        manifest << "\n";
    };
    put("x", x), put("y", y), put("loss", loss);
    std::vector<rt::Param*> params = b.net->params();
    REQUIRE(params.size() == 8);
    for (size_t i = 0; i < params.size(); ++i) put("p" + std::to_string(i), params[i]->value), put("g" + std::to_string(i), params[i]->grad);
    manifest.close();
    CommandResult r = run_shell("/usr/bin/python3 '" + root() + "/bench/graph_parity_torch.py' '" + d.string() + "' 2>&1");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("agree"));
}
