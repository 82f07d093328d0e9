// The seed's summary tables, number for number, and golden summaries of every model in models/.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "Helpers.h"
#include "summary/Summary.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {
struct Row {
    std::string name, type;
    Shape out;
    int64_t params;
};

void require_rows(const std::vector<LayerNode>& layers, const std::vector<Row>& want) {
    REQUIRE(layers.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        INFO("row " << i << ": " << layers[i].name);
        CHECK(layers[i].name == want[i].name);
        CHECK(layers[i].type == want[i].type);
        CHECK(layers[i].out == want[i].out);
        CHECK(layers[i].param_count() == want[i].params);
    }
}

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

TEST_CASE("MNIST model reproduces the seed's summary (93,322 parameters)", "[summary][seed]") {
    auto c = compile_repo_file("models/mnist.cnn");
    require_ok(*c);
    const Model& m = *c->program.model("mnist_cnn");
    require_rows(m.layers, {{"conv2d", "Conv2D", {26, 26, 32}, 320},
                            {"max_pooling2d", "MaxPooling2D", {13, 13, 32}, 0},
                            {"conv2d_1", "Conv2D", {11, 11, 64}, 18496},
                            {"max_pooling2d_1", "MaxPooling2D", {5, 5, 64}, 0},
                            {"conv2d_2", "Conv2D", {3, 3, 64}, 36928},
                            {"flatten", "Flatten", {576}, 0},
                            {"dense", "Dense", {64}, 36928},
                            {"dense_1", "Dense", {10}, 650}});
    CHECK(m.param_count() == 93322);
    CHECK(m.trainable_count() == 93322);
    // The convolutional base alone: 55,744.
    int64_t base = 0;
    for (size_t i = 0; i < 5; ++i) base += m.layers[i].param_count();
    CHECK(base == 55744);
    std::string s = render_summary(m);
    CHECK_THAT(s, Catch::Contains(" Total params: 93,322 (364.54 KB)\n"));
    CHECK_THAT(s, Catch::Contains(" Non-trainable params: 0 (0.00 B)\n"));
}

TEST_CASE("cats-vs-dogs convnet reproduces the seed's summary (991,041 parameters, 3.78 MB)", "[summary][seed]") {
    auto c = compile_repo_file("models/cats_vs_dogs.cnn");
    require_ok(*c);
    const Model& m = *c->program.model("small_convnet");
    require_rows(m.layers, {{"rescaling", "Rescaling", {180, 180, 3}, 0},
                            {"conv2d", "Conv2D", {178, 178, 32}, 896},
                            {"max_pooling2d", "MaxPooling2D", {89, 89, 32}, 0},
                            {"conv2d_1", "Conv2D", {87, 87, 64}, 18496},
                            {"max_pooling2d_1", "MaxPooling2D", {43, 43, 64}, 0},
                            {"conv2d_2", "Conv2D", {41, 41, 128}, 73856},
                            {"max_pooling2d_2", "MaxPooling2D", {20, 20, 128}, 0},
                            {"conv2d_3", "Conv2D", {18, 18, 256}, 295168},
                            {"max_pooling2d_3", "MaxPooling2D", {9, 9, 256}, 0},
                            {"conv2d_4", "Conv2D", {7, 7, 256}, 590080},
                            {"flatten", "Flatten", {12544}, 0},
                            {"dense", "Dense", {1}, 12545}});
    std::string s = render_summary(m);
    CHECK_THAT(s, Catch::Contains(" Total params: 991,041 (3.78 MB)\n"));
    CHECK_THAT(s, Catch::Contains(" Trainable params: 991,041 (3.78 MB)\n"));
    CHECK_THAT(s, Catch::Contains(" Non-trainable params: 0 (0.00 B)\n"));
    CHECK_THAT(s, Catch::Contains("│ conv2d_4 (Conv2D)                    │ (None, 7, 7, 256)           │         590,080 │"));
    // Augmentation and dropout variants keep the same parameter count.
    for (const char* f : {"models/cats_vs_dogs_augmented.cnn", "models/cats_vs_dogs_dropout.cnn"}) {
        auto v = compile_repo_file(f);
        require_ok(*v);
        CHECK(v->program.models.at(0).param_count() == 991041);
    }
}

TEST_CASE("VGG16 base from the standard library: per-layer counts and a (5, 5, 512) map", "[summary][seed]") {
    auto c = compile_repo_file("models/cats_vs_dogs_vgg16.cnn");
    require_ok(*c);
    const Model& f = *c->program.model("vgg16_features");
    REQUIRE(f.output() == Shape{5, 5, 512});
    const LayerNode& base = f.layers.at(1);
    REQUIRE(base.name == "vgg16");
    std::vector<int64_t> want = {1792,    36928,   73856,   147584,  295168,  590080, 590080,
                                 1180160, 2359808, 2359808, 2359808, 2359808, 2359808};
    std::vector<int64_t> got;
    std::vector<std::string> names;
    for (const auto& stage : base.children)
        for (const auto& l : stage.children)
            if (l.kind && l.kind->name == "Conv2D") got.push_back(l.param_count()), names.push_back(l.name);
    CHECK(got == want);
    CHECK(names.front() == "block1_conv1");
    CHECK(names.back() == "block5_conv3");
    CHECK(base.param_count() == 14714688);
    CHECK(base.children.back().children.back().name == "block5_pool");

    // (b) the frozen base inside the model: one row, counted as non-trainable.
    const Model& t = *c->program.model("vgg_transfer");
    CHECK(t.param_count() == 14714688 + 3277056 + 257);
    CHECK(t.param_count() - t.trainable_count() == 14714688);
    std::string s = render_summary(t);
    CHECK_THAT(s, Catch::Contains("│ vgg16 (vgg16)                        │ (None, 5, 5, 512)           │      14,714,688 │"));
    CHECK_THAT(s, Catch::Contains(" Non-trainable params: 14,714,688 (56.13 MB)\n"));
    CHECK_THAT(s, !Catch::Contains("block1_conv1"));
    SummaryOptions expand;
    expand.expand = true;
    CHECK_THAT(render_summary(t, expand), Catch::Contains("│   └ block1_conv1 (Conv2D)            │ (None, 180, 180, 64)        │           1,792 │"));
}

TEST_CASE("summary helpers format like Keras", "[summary]") {
    CHECK(thousands(0) == "0");
    CHECK(thousands(999) == "999");
    CHECK(thousands(1000) == "1,000");
    CHECK(thousands(14714688) == "14,714,688");
    CHECK(memory_size(0) == "0.00 B");
    CHECK(memory_size(4 * 93322.0) == "364.54 KB");
    CHECK(memory_size(4 * 991041.0) == "3.78 MB");
    CHECK(memory_size(1023) == "1023.00 B");
    CHECK(flops_text(999) == "999");
    CHECK(flops_text(5648256) == "5.65 M");
}

TEST_CASE("FLOPs count 2 per multiply-add plus the bias", "[summary]") {
    auto c = compile_repo_file("models/mnist.cnn");
    require_ok(*c);
    const Model& m = c->program.models.at(0);
    // conv2d: 26*26*32 outputs, 3*3*1 MACs each, plus the bias add.
    CHECK(m.layers[0].flops == 2 * 26 * 26 * 32 * 9 + 26 * 26 * 32);
    CHECK(m.layers[6].flops == 2 * 576 * 64 + 64);
    SummaryOptions o;
    o.flops = true;
    CHECK_THAT(render_summary(m, o), Catch::Contains("FLOPs"));
}

// Golden files: tests/golden/<model file>.summary holds `cnnc summary --expand --flops` of each
// file in models/. A changed layout or number shows up as a diff here.
TEST_CASE("golden summaries of every model file", "[summary][golden]") {
    namespace fs = std::filesystem;
    int n = 0;
    for (const auto& e : fs::directory_iterator(root() + "/models")) {
        if (e.path().extension() != ".cnn") continue;
        std::string stem = e.path().stem().string();
        DYNAMIC_SECTION(stem) {
            auto c = compile_repo_file("models/" + e.path().filename().string());
            require_ok(*c);
            SummaryOptions o;
            o.expand = true;
            o.flops = true;
            std::string got;
            for (const auto& m : c->program.models) got += (got.empty() ? "" : "\n") + render_summary(m, o);
            std::string golden = root() + "/tests/golden/" + stem + ".summary";
            REQUIRE(fs::exists(golden));
            CHECK(got == read(golden));
        }
        ++n;
    }
    CHECK(n >= 7);
}
