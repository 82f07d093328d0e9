// The Keras applications in stdlib/: ResNet50 and MobileNetV2 have keras.applications' structure,
// layer names and parameter counts. The totals are Keras' own (model.summary() of
// keras.applications.ResNet50 and MobileNetV2, as published); the counts at other widths are
// computed from Keras' construction (keras/src/applications/mobilenet_v2.py) written out in Python:
//   def md(v, d=8): n = max(d, int(v + d / 2) // d * d); return n + d if n < 0.9 * v else n
//   Conv1 27*c + BN 4c (c = md(32a)); per block (filters f, expansion t): expand c*tc + BN 4tc
//   (t != 1), depthwise 9e + BN 4e (e = tc), project e*p + BN 4p (p = md(int(f*a))); Conv_1 p*L +
//   BN 4L (L = md(1280a) if a > 1 else 1280); top L*1000 + 1000. Non-trainable: half of each BN.
// The layer counts are Keras' len(model.layers) less its InputLayer.
#include <set>

#include "Helpers.h"
#include "ModelHelpers.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

std::unique_ptr<Compilation> app(const std::string& import, const std::string& input, const std::string& call) {
    return compile("import \"" + import + "\"\nmodel m {\n    input(" + input + ")\n    " + call + "\n}\n");
}

const LayerNode& leaf(const Model& m, const std::string& name) {
    for (const LayerNode* l : m.leaves())
        if (l->name == name) return *l;
    FAIL("no layer " << name);
    std::abort();
}

size_t count_type(const Model& m, const std::string& type) {
    size_t n = 0;
    for (const LayerNode* l : m.leaves()) n += l->type == type;
    return n;
}

void check_unique(const std::vector<std::string>& names) {
    std::set<std::string> seen(names.begin(), names.end());
    CHECK(seen.size() == names.size());  // Keras' names are unique in the model: weights load by name
}

}  // namespace

TEST_CASE("stdlib ResNet50: Keras' parameter counts, layer names and pooling options", "[applications]") {
    auto top = app("resnet50", "224, 224, 3", "resnet50()");
    const Model& m = only_model(*top);
    CHECK(m.param_count() == 25'636'712);
    CHECK(m.param_count() - m.trainable_count() == 53'120);
    CHECK(m.output() == Shape({1000}));
    auto names = leaf_names(m);
    REQUIRE(names.size() == 176);  // Keras: 177 layers with the InputLayer
    check_unique(names);
    CHECK(std::vector<std::string>(names.begin(), names.begin() + 6) ==
          std::vector<std::string>{"conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool"});
    // A stack's first block projects its shortcut (written first, as Keras adds [shortcut, x]).
    CHECK(std::vector<std::string>(names.begin() + 6, names.begin() + 10) ==
          std::vector<std::string>{"conv2_block1_0_conv", "conv2_block1_0_bn", "conv2_block1_1_conv", "conv2_block1_1_bn"});
    CHECK(std::vector<std::string>(names.end() - 4, names.end()) ==
          std::vector<std::string>{"conv5_block3_add", "conv5_block3_out", "avg_pool", "predictions"});
    CHECK(count_type(m, "Add") == 16);
    CHECK(count_type(m, "BatchNormalization") == 53);
    CHECK(leaf(m, "conv4_block6_out").out == Shape({14, 14, 1024}));
    CHECK(leaf(m, "conv3_block1_0_conv").out == Shape({28, 28, 512}));  // strided projection
    CHECK(leaf(m, "conv2_block1_0_conv").out == Shape({56, 56, 256}));  // stride1 = 1 in conv2

    auto notop = app("resnet50", "224, 224, 3", "resnet50(include_top = false)");
    CHECK(only_model(*notop).param_count() == 23'587'712);
    CHECK(only_model(*notop).output() == Shape({7, 7, 2048}));
    CHECK(leaf_names(only_model(*notop)).size() == 174);
    auto avg = app("resnet50", "224, 224, 3", "resnet50(include_top = false, pooling = avg)");
    CHECK(leaf_names(only_model(*avg)).back() == "avg_pool");
    CHECK(only_model(*avg).output() == Shape({2048}));
    auto max = app("resnet50", "160, 160, 3", "resnet50(include_top = false, pooling = max)");
    CHECK(leaf_names(only_model(*max)).back() == "max_pool");
    CHECK(leaf(only_model(*max), "conv5_block3_out").out == Shape({5, 5, 2048}));
    auto ten = app("resnet50", "224, 224, 3", "resnet50(classes = 10, classifier_activation = linear)");
    CHECK(only_model(*ten).param_count() == 23'587'712 + 2048 * 10 + 10);
    CHECK(only_model(*ten).output_activation() == "linear");
}

TEST_CASE("stdlib MobileNetV2: Keras' parameter counts and layer names at alpha 1.0, 0.35 and 1.4", "[applications]") {
    auto top = app("mobilenet_v2", "224, 224, 3", "mobilenet_v2()");
    const Model& m = only_model(*top);
    CHECK(m.param_count() == 3'538'984);
    CHECK(m.param_count() - m.trainable_count() == 34'112);
    auto names = leaf_names(m);
    REQUIRE(names.size() == 155);  // Keras: 156 layers with the InputLayer
    check_unique(names);
    CHECK(std::vector<std::string>(names.begin(), names.begin() + 9) ==
          std::vector<std::string>{"Conv1", "bn_Conv1", "Conv1_relu", "expanded_conv_depthwise", "expanded_conv_depthwise_BN",
                                   "expanded_conv_depthwise_relu", "expanded_conv_project", "expanded_conv_project_BN",
                                   "block_1_expand"});
    CHECK(std::vector<std::string>(names.begin() + 9, names.begin() + 14) ==
          std::vector<std::string>{"block_1_expand_BN", "block_1_expand_relu", "block_1_pad", "block_1_depthwise",
                                   "block_1_depthwise_BN"});
    CHECK(std::vector<std::string>(names.end() - 5, names.end()) ==
          std::vector<std::string>{"Conv_1", "Conv_1_bn", "out_relu", "global_average_pooling2d", "predictions"});
    // Adds where the shape is unchanged: blocks 2, 4, 5, 7, 8, 9, 11, 12, 14, 15; pads before the
    // four strided blocks, ((0, 1), (0, 1)) on their even inputs (Keras' correct_pad).
    CHECK(count_type(m, "Add") == 10);
    for (const char* add : {"block_2_add", "block_5_add", "block_9_add", "block_12_add", "block_15_add"}) CHECK(leaf(m, add).type == "Add");
    CHECK(count_type(m, "ZeroPadding2D") == 4);
    CHECK(leaf(m, "block_6_pad").in == Shape({28, 28, 192}));
    CHECK(leaf(m, "block_6_pad").out == Shape({29, 29, 192}));
    CHECK(leaf(m, "block_13_depthwise").out == Shape({7, 7, 576}));
    CHECK(m.output() == Shape({1000}));

    auto notop = app("mobilenet_v2", "224, 224, 3", "mobilenet_v2(include_top = false)");
    CHECK(only_model(*notop).param_count() == 2'257'984);
    CHECK(only_model(*notop).output() == Shape({7, 7, 1280}));

    // alpha 0.35: Conv1 has md(11.2) = 16 filters (the 10% rule), block 0 projects to md(5) = 8.
    auto narrow = app("mobilenet_v2", "224, 224, 3", "mobilenet_v2(alpha = 0.35)");
    CHECK(only_model(*narrow).param_count() == 1'691'208);
    CHECK(only_model(*narrow).param_count() - only_model(*narrow).trainable_count() == 14'080);
    CHECK(leaf(only_model(*narrow), "Conv1").out == Shape({112, 112, 16}));
    // alpha 1.4: the last convolution widens to md(1792) = 1792.
    auto wide = app("mobilenet_v2", "224, 224, 3", "mobilenet_v2(alpha = 1.4, include_top = false, pooling = avg)");
    CHECK(only_model(*wide).param_count() == 4'363'712);
    CHECK(only_model(*wide).output() == Shape({1792}));
}

TEST_CASE("stdlib MobileNetV2 pads its strided blocks as Keras' correct_pad for the input size", "[applications]") {
    // 226x226: Conv1 gives 113, odd, so block_1 pads ((1, 1), (1, 1)) to 115 and its depthwise
    // convolution gives 57 (Keras: correct_pad is ((1 - adjust, 1), ...) with adjust = 1 - 113 % 2 = 0).
    auto odd = app("mobilenet_v2", "226, 226, 3", "mobilenet_v2(rows = 226, cols = 226, include_top = false)");
    const Model& m = only_model(*odd);
    CHECK(leaf(m, "block_1_pad").out == Shape({115, 115, 96}));
    CHECK(leaf(m, "block_1_depthwise").out == Shape({57, 57, 96}));
    CHECK(leaf(m, "block_3_pad").out == Shape({59, 59, 144}));  // 57 is odd too
    CHECK(leaf(m, "block_6_pad").out == Shape({31, 31, 192}));  // 29: odd
    CHECK(leaf(m, "block_13_pad").out == Shape({17, 17, 576}));  // 15: odd
    CHECK(m.output() == Shape({8, 8, 1280}));
}

TEST_CASE("the applications' preprocessing blocks use Keras' modes", "[applications]") {
    auto r = app("resnet50", "32, 32, 3", "resnet50_preprocess()");
    CHECK(only_model(*r).leaves().front()->args.text("mode") == "caffe");
    auto mb = app("mobilenet_v2", "32, 32, 3", "mobilenet_v2_preprocess()");
    CHECK(only_model(*mb).leaves().front()->args.text("mode") == "tf");
}

TEST_CASE("cnnc summary of models/imagenet_*.cnn prints Keras' totals", "[applications][cli]") {
    CommandResult r = run_cnnc("summary models/imagenet_resnet50.cnn", root());
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("Total params: 25,636,712") && Catch::Contains("Non-trainable params: 53,120"));
    CommandResult mb = run_cnnc("summary models/imagenet_mobilenet_v2.cnn", root());
    INFO(mb.output);
    CHECK(mb.status == 0);
    CHECK_THAT(mb.output, Catch::Contains("Total params: 3,538,984") && Catch::Contains("Non-trainable params: 34,112"));
}

TEST_CASE("models/cats_vs_dogs_xception.cnn: the mini-Xception's summary, counted by hand", "[applications][seed]") {
    // Conv2D(32, 5, no bias) on 3 channels: 5*5*3*32 = 2,400. A stage from c to s channels: BN 4c,
    // SeparableConv2D 9c + c*s, BN 4s, SeparableConv2D 9s + s*s, the 1x1 projection c*s:
    //   32->32: 3,904   32->64: 9,440   64->128: 35,264   128->256: 136,064   256->512: 534,272
    // Dense(1) on 512: 513. Total 721,857; non-trainable: the moving mean and variance of every
    // BN, 2 * (32+32 + 32+64 + 64+128 + 128+256 + 256+512) = 3,008.
    auto c = compile_repo_file("models/cats_vs_dogs_xception.cnn");
    require_ok(*c);
    const Model* m = nullptr;
    for (const Model& x : c->program.models)
        if (x.name == "mini_xception") m = &x;
    REQUIRE(m);
    CHECK(m->param_count() == 721'857);
    CHECK(m->param_count() - m->trainable_count() == 3'008);
    std::vector<int64_t> stage_params;
    std::vector<Shape> stage_out;
    for (const LayerNode& l : m->layers)
        if (l.type == "xception_stage") stage_params.push_back(l.param_count()), stage_out.push_back(l.out);
    CHECK(stage_params == std::vector<int64_t>{3'904, 9'440, 35'264, 136'064, 534'272});
    CHECK(leaf(*m, "conv2d").out == Shape({176, 176, 32}));
    // 176 halved by each stage's strided pooling (same padding: rounding up) and projection.
    CHECK(stage_out == std::vector<Shape>{{88, 88, 32}, {44, 44, 64}, {22, 22, 128}, {11, 11, 256}, {6, 6, 512}});
    CHECK(m->output() == Shape({1}));
    CHECK(count_type(*m, "SeparableConv2D") == 10);
    CHECK(count_type(*m, "BatchNormalization") == 10);
}
