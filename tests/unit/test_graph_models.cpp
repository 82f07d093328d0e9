// Models written as graphs in .cnn files, through the engine: whole-network gradients by finite
// differences (a residual with a projection shortcut, branches merged by Concatenate, a U-Net-like
// skip, every merge kind), and through the command line: `cnnc build`'s executable against `cnnc
// run`, and `--resume` against an uninterrupted run.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "Bars.h"
#include "EngineHelpers.h"
#include "GradientCheck.h"
#include "TempDir.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

TEST_CASE("a residual block with a projection shortcut: the whole network's gradient", "[graph][gradients][models]") {
    Built b = build(R"(model m {
        input(6, 6, 2)
        Conv2D(4, 3, padding = same, activation = tanh)
        residual {
            Conv2D(3, 3, strides = 2, padding = same, activation = tanh)
            Conv2D(3, 3, padding = same)
        } shortcut {
            Conv2D(3, 1, strides = 2)
        }
        Activation(tanh)
        Flatten()
        Dense(4, activation = softmax)
    })", 3);
    CHECK_FALSE(b.model().is_sequential());
    check_network_gradient(b, 2, 7, 1e-2f);
}

TEST_CASE("branches merged by Concatenate, one of them the identity and one with a separate activation stage", "[graph][gradients][models]") {
    // swish is not fused into the convolution: the merge reads that layer's activation stage.
    Built b = build(R"(model m {
        input(5, 5, 2)
        Conv2D(4, 3, padding = same, activation = tanh)
        Concatenate {
            branch { Conv2D(3, 1, activation = tanh) }
            branch { MaxPooling2D(3, strides = 1, padding = same)  Conv2D(2, 3, padding = same, activation = swish) }
            branch { }
        }
        GlobalAveragePooling2D()
        Dense(3, activation = softmax)
    })", 4);
    REQUIRE(b.model().output().dims == std::vector<int64_t>{3});
    check_network_gradient(b, 2, 8);  // pooling: kinks
}

TEST_CASE("a U-Net-like skip: an early tensor concatenated after a pooling and a padding", "[graph][gradients][models]") {
    Built b = build(R"(model m {
        input(6, 6, 1)
        Conv2D(3, 3, padding = same, activation = tanh) as e1
        MaxPooling2D(2)
        Conv2D(4, 3, padding = same, activation = tanh)
        ZeroPadding2D(((1, 2), (2, 1)))
        Concatenate(e1)
        Conv2D(2, 1, activation = tanh)
        Flatten()
        Dense(3, activation = softmax)
    })", 5);
    check_network_gradient(b, 2, 9);  // pooling: kinks
}

// The shifted branch keeps Maximum's and Minimum's winners apart by more than a step (ties and
// mixed winners are checked by hand and layer by layer in test_graph_engine.cpp).
TEST_CASE("every merge kind inside a trained network: the whole gradient", "[graph][gradients][models]") {
    for (const char* merge : {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"}) {
        DYNAMIC_SECTION(merge) {
            Built b = build(fmt::format(R"(model m {{
                input(4, 4, 2)
                Conv2D(3, 3, padding = same, activation = tanh) as a
                Conv2D(3, 1, activation = tanh)
                Rescaling(1, offset = 3)
                {}(a)
                Flatten()
                Dense(3, activation = softmax)
            }})", merge), 6);
            check_network_gradient(b, 2, 10, 1e-2f);
        }
    }
}

namespace {

// The bars problem's file (Bars.h) with its model made residual.
std::string residual_bars() {
    std::string file = kModel;
    const size_t from = file.find("model bar_net {"), to = file.find("}\n", from) + 2;
    return file.replace(from, to - from, R"(model bar_net {
    input(8, 8, 1)
    Conv2D(4, 3, padding = same, activation = relu)
    residual {
        Conv2D(4, 3, padding = same, activation = relu)
        Conv2D(4, 3, padding = same)
    }
    Activation(relu)
    MaxPooling2D(2)
    Flatten()
    Dense(2, activation = softmax)
}
)");
}

}  // namespace

TEST_CASE("a residual model: cnnc build's executable trains to cnnc run's losses, and --resume to the uninterrupted history",
          "[graph][build][cli]") {
    TempDir dir;
    fs::path d = dir.path();
    write_bars_problem(d);
    std::ofstream(d / "res.cnn") << residual_bars();
    const std::string env = "CNNC_CACHE_DIR='" + (d / "cache").string() + "'";

    CommandResult run = run_cnnc("run res.cnn --seed 5 --output-dir run_out", d.string(), env);
    INFO(run.output);
    REQUIRE(run.status == 0);
    CHECK(metric_on_line(run.output, "bar_net on bars.test: ", "accuracy") >= 0.9);
    const std::string history = read_bytes((d / "run_out" / "bar_net_history.csv").string());
    const std::string evaluation = run.output.substr(run.output.rfind("bar_net on bars.test"));

    CommandResult b = run_cnnc("build res.cnn -o res_exe --target host", d.string(), env);
    INFO(b.output);
    REQUIRE(b.status == 0);
    CommandResult exe = run_shell("cd '" + d.string() + "' && ./res_exe train --seed 5 --output-dir exe_out");
    INFO(exe.output);
    REQUIRE(exe.status == 0);
    check_close(losses(d / "exe_out" / "bar_net_history.csv"), losses(d / "run_out" / "bar_net_history.csv"), 1e-6);

    // Stopped after epoch 2 (as if killed), then resumed: the uninterrupted run's history and
    // evaluation, bit for bit.
    CommandResult stopped = run_cnnc("run res.cnn --seed 5 --output-dir run_out", d.string(), env + " CNNC_INTERRUPT_AFTER_EPOCH=2");
    INFO(stopped.output);
    REQUIRE(stopped.status == 1);
    REQUIRE(fs::exists(d / "run_out" / "bar_net.state"));
    CommandResult resumed = run_cnnc("run res.cnn --seed 5 --output-dir run_out --resume", d.string(), env);
    INFO(resumed.output);
    REQUIRE(resumed.status == 0);
    CHECK_THAT(resumed.output, Catch::Contains("Resuming after epoch 2"));
    CHECK(read_bytes((d / "run_out" / "bar_net_history.csv").string()) == history);
    CHECK(resumed.output.substr(resumed.output.rfind("bar_net on bars.test")) == evaluation);
}
