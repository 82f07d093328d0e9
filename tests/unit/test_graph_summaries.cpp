// Functional summaries of models written as graphs: a two-branch model's table exactly, and the
// parameter counts of models/unet_small.cnn and models/resnet20_cifar.cnn computed by hand (their
// whole tables are golden files, tests/golden/<model>.summary, compared by test_summary.cpp).
#include "Helpers.h"
#include "summary/Summary.h"

using namespace cnnc;
using namespace cnnc::test;

TEST_CASE("a two-branch model's functional summary, Connected to and all", "[summary][graph]") {
    auto c = compile("model two {\n    input(8)\n    Dense(4)\n    Concatenate {\n        branch { Dense(3) }\n"
                     "        branch { Dense(2) }\n    }\n    Dense(1)\n}\n");
    require_ok(*c);
    SummaryOptions o;
    o.ascii = true;
    // dense 8*4+4, dense_1 4*3+3, dense_2 4*2+2, dense_3 (3+2)*1+1.
    std::string rule(108, '-');
    CHECK(render_summary(c->program.models.at(0), o) ==
          "Model: \"two\"\n" + std::string(108, '_') + "\n"
          " Layer (type)                    Output Shape                        Param #   Connected to\n" +
          std::string(108, '=') + "\n"
          " input_layer (InputLayer)        (None, 8)                                 0   -\n" + rule + "\n" +
          " dense (Dense)                   (None, 4)                                36   input_layer[0][0]\n" + rule + "\n" +
          " dense_1 (Dense)                 (None, 3)                                15   dense[0][0]\n" + rule + "\n" +
          " dense_2 (Dense)                 (None, 2)                                10   dense[0][0]\n" + rule + "\n" +
          " concatenate (Concatenate)       (None, 5)                                 0   dense_1[0][0],\n"
          "                                                                               dense_2[0][0]\n" + rule + "\n" +
          " dense_3 (Dense)                 (None, 1)                                 6   concatenate[0][0]\n" +
          std::string(108, '=') + "\n"
          " Total params: 67 (268.00 B)\n"
          " Trainable params: 67 (268.00 B)\n"
          " Non-trainable params: 0 (0.00 B)\n"
          " Forward FLOPs per sample: 124\n");
}

TEST_CASE("the U-Net's parameters, counted by hand (116,753)", "[summary][graph]") {
    auto c = compile_repo_file("models/unet_small.cnn");
    require_ok(*c);
    const Model& m = c->program.models.at(0);
    REQUIRE(!m.is_sequential());
    std::vector<std::pair<std::string, int64_t>> rows;
    for (const auto& l : m.layers) rows.emplace_back(l.name, l.param_count());
    CHECK(rows == std::vector<std::pair<std::string, int64_t>>{
                      {"down", 160 + 2320},                 // 3*3*1*16+16, 3*3*16*16+16
                      {"max_pooling2d", 0},
                      {"down_1", 4640 + 9248},              // 3*3*16*32+32, 3*3*32*32+32
                      {"max_pooling2d_1", 0},
                      {"down_2", 18496 + 36928},            // 3*3*32*64+64, 3*3*64*64+64
                      {"up", 8224 + 18464 + 9248},          // 2*2*64*32+32, then 3*3*(32+32)*32+32, 3*3*32*32+32
                      {"up_1", 2064 + 4624 + 2320},         // 2*2*32*16+16, then 3*3*(16+16)*16+16, 3*3*16*16+16
                      {"conv2d", 17}});                     // 1*1*16*1+1
    CHECK(m.param_count() == 116753);
    CHECK(m.output() == Shape{64, 64, 1});
    std::string s = render_summary(m);
    // The decoder levels read the level below and the encoder's features of their own scale.
    CHECK_THAT(s, Catch::Contains("│ up (up)                        │ (None, 32, 32, 32)        │          35,936 │ down_2[0][0],              │\n"
                                  "│                                │                           │                 │ down_1[0][0]               │\n"));
    CHECK_THAT(s, Catch::Contains("│ up_1 (up)                      │ (None, 64, 64, 16)        │           9,008 │ up[0][0],                  │\n"
                                  "│                                │                           │                 │ down[0][0]                 │\n"));
}

TEST_CASE("ResNet-20's parameters, counted by hand (271,690)", "[summary][graph]") {
    auto c = compile_repo_file("models/resnet20_cifar.cnn");
    require_ok(*c);
    const Model& m = c->program.models.at(0);
    // conv 3*3*3*16+16 = 448; basic(16): 2 * (3*3*16*16+16) = 4,640, three times; basic_down(32):
    // 3*3*16*32+32 + 3*3*32*32+32 + 1*1*16*32+32 = 14,432; basic(32): 2 * 9,248, twice; basic_down(64):
    // 3*3*32*64+64 + 3*3*64*64+64 + 1*1*32*64+64 = 57,536; basic(64): 2 * 36,928, twice; dense 64*10+10.
    CHECK(m.param_count() == 448 + 3 * 4640 + 14432 + 2 * 18496 + 57536 + 2 * 73856 + 650);
    CHECK(m.param_count() == 271690);
    SummaryOptions o;
    o.expand = true;
    // Expanded, a block's layers are named by their path: the add of the first block reads its
    // second convolution and the stem's output.
    CHECK_THAT(render_summary(m, o), Catch::Contains("basic/conv2d_1[0][0],"));
}
