// The language itself: numbers and arithmetic, blocks, repeat, string interpolation, imports,
// naming, freezing, and what a checked train/evaluate statement holds.
#include <filesystem>
#include <fstream>

#include "Helpers.h"
#include "sema/Eval.h"

using namespace cnnc;
using namespace cnnc::test;

static const char* kData = R"(
dataset d {
    train = idx("a", "b")
    validation = idx("c", "d")
    test = idx("e", "f")
    rescale = 1/255
    labels = one_hot(10)
}
)";

static const LayerNode& layer(const Model& m, size_t i) { return m.layers.at(i); }

TEST_CASE("numbers: 1/255 is a true division, 1e-3 a float, 64 an integer", "[language]") {
    auto c = compile(std::string(kData) + "model m { input(4) Rescaling(1/255) Dense(64) Dropout(5e-1) }");
    require_ok(*c);
    const Model& m = c->program.models.at(0);
    CHECK(layer(m, 0).args.number("scale") == Approx(1.0 / 255).epsilon(1e-12));
    CHECK(layer(m, 1).args.integer("units") == 64);
    CHECK(layer(m, 2).args.number("rate") == 0.5);
    const Dataset& d = c->program.datasets.at(0);
    CHECK(d.options.number("rescale") == Approx(1.0 / 255));
    CHECK(d.labels == "one_hot");
    CHECK(d.classes == 10);
}

TEST_CASE("arithmetic on block parameters, keyword and positional block arguments, defaults", "[language]") {
    auto c = compile(R"(
block widen(width, factor = 2) {
    Dense(width * factor, activation = relu)
    Dense(width + 1 - 1)
}
model m {
    input(8)
    widen(16)
    widen(width = 4, factor = 3)
})");
    require_ok(*c);
    const Model& m = c->program.models.at(0);
    REQUIRE(m.layers.size() == 2);
    CHECK(m.layers[0].name == "widen");
    CHECK(m.layers[1].name == "widen_1");
    CHECK(m.layers[0].children.at(0).out == Shape{32});
    CHECK(m.layers[0].children.at(1).out == Shape{16});
    CHECK(m.layers[1].children.at(0).out == Shape{12});
    CHECK(m.output() == Shape{4});
    // Names restart inside each block instance, as in a nested Keras model.
    CHECK(m.layers[1].children.at(0).name == "dense");
    CHECK(m.layers[1].children.at(1).name == "dense_1");
}

TEST_CASE("repeat unrolls with a 1-based index and interpolates names", "[language]") {
    auto c = compile(R"(
model m {
    input(8, 8, 3)
    repeat 3 as i {
        Conv2D(4 * i, 3, padding = same, name = "conv{i}")
    }
})");
    require_ok(*c);
    const Model& m = c->program.models.at(0);
    REQUIRE(m.layers.size() == 3);
    CHECK(m.layers[0].name == "conv1");
    CHECK(m.layers[2].name == "conv3");
    CHECK(m.output() == Shape{8, 8, 12});
}

TEST_CASE("auto names skip names the user took", "[language]") {
    auto c = compile("model m { input(4) Dense(4, name = \"dense_1\") Dense(4) Dense(4) }");
    require_ok(*c);
    const Model& m = c->program.models.at(0);
    CHECK(m.layers[0].name == "dense_1");
    CHECK(m.layers[1].name == "dense");
    CHECK(m.layers[2].name == "dense_2");
}

TEST_CASE("input_shape on the first layer, as in Keras' Sequential", "[language]") {
    auto c = compile("model m { Conv2D(32, (3, 3), activation = relu, input_shape = (28, 28, 1)) Flatten() }");
    require_ok(*c);
    const Model& m = c->program.models.at(0);
    CHECK(m.input == Shape{28, 28, 1});
    CHECK(m.output() == Shape{26 * 26 * 32});
}

TEST_CASE("trainable = false freezes a layer or a whole block", "[language]") {
    auto c = compile(R"(
block head { Dense(8) Dense(2, activation = softmax) }
model m {
    input(4)
    Dense(4, trainable = false)
    head(trainable = false)
    Dense(3, activation = softmax)
})");
    require_ok(*c);
    const Model& m = c->program.models.at(0);
    CHECK(m.param_count() == 20 + 40 + 18 + 9);
    CHECK(m.trainable_count() == 9);
    CHECK_FALSE(m.layers[1].children[0].trainable);
}

TEST_CASE("imports: relative files and the standard library, each loaded once", "[language]") {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / "cnnc_import_test";
    fs::create_directories(dir);
    std::ofstream(dir / "blocks.cnn") << "import \"vgg16\"\nblock two_dense(n) { Dense(n) Dense(n) }\n";
    std::ofstream(dir / "main.cnn") << "import \"blocks\"\nimport \"blocks.cnn\"\nimport \"vgg16\"\n"
                                       "model m { input(32, 32, 3) vgg16() Flatten() two_dense(5) }\n";
    FrontendOptions o;
    o.import_dirs = {root() + "/stdlib"};
    auto c = compile_file((dir / "main.cnn").string(), o);
    require_ok(*c);
    CHECK(c->files.size() == 3);  // main, blocks, vgg16
    const Model& m = c->program.models.at(0);
    CHECK(m.layers[0].out == Shape{1, 1, 512});
    CHECK(m.output() == Shape{5});
    fs::remove_all(dir);
}

TEST_CASE("a checked train statement holds Keras' defaults and resolved references", "[language]") {
    auto c = compile(std::string(kData) + R"(
model m { input(28, 28, 1) Flatten() Dense(10, activation = softmax) }
callbacks cbs {
    ModelCheckpoint("best.weights.h5", save_best_only = true)
    EarlyStopping(monitor = val_accuracy, patience = 2)
}
train m on d.train {
    validation = d.validation
    optimizer = rmsprop
    loss = categorical_crossentropy
    metrics = [accuracy]
    epochs = 5
    batch_size = 64
    callbacks = cbs
}
evaluate m on d.test
)");
    require_ok(*c);
    REQUIRE(c->program.trains.size() == 1);
    const TrainSpec& t = c->program.trains[0];
    CHECK(t.model == "m");
    CHECK(t.data.dataset == "d");
    CHECK(t.data.member == "train");
    CHECK(t.validation.member == "validation");
    CHECK(t.optimizer.kind->name == "rmsprop");
    CHECK(t.optimizer.args.number("learning_rate") == Approx(0.001));
    CHECK(t.optimizer.args.number("rho") == Approx(0.9));
    CHECK(t.optimizer.args.number("epsilon") == Approx(1e-7));
    CHECK(t.outputs.at(0).loss->name == "categorical_crossentropy");
    CHECK(t.epochs == 5);
    CHECK(t.batch_size == 64);
    REQUIRE(t.callbacks.size() == 2);
    CHECK(t.callbacks[0].args.text("monitor") == "val_loss");
    CHECK(t.callbacks[1].args.integer("patience") == 2);
    CHECK(t.reported() == std::vector<std::string>{"loss", "accuracy", "val_loss", "val_accuracy"});
    REQUIRE(c->program.evaluates.size() == 1);
    CHECK(c->program.evaluates[0].data.member == "test");
}

TEST_CASE("losses fit outputs: logits, sigmoid, softmax", "[language]") {
    std::string base = std::string(kData) + "model m { input(4) Dense(10, activation = ACT) }\n"
                                            "train m on d.train { loss = LOSS }\n";
    auto check = [&](const std::string& act, const std::string& loss) {
        std::string s = base;
        s.replace(s.find("ACT"), 3, act);
        s.replace(s.find("LOSS"), 4, loss);
        return compile(s)->diags.has_errors();
    };
    CHECK_FALSE(check("softmax", "categorical_crossentropy"));
    CHECK_FALSE(check("linear", "categorical_crossentropy(from_logits = true)"));
    CHECK(check("linear", "categorical_crossentropy"));
    CHECK(check("softmax", "categorical_crossentropy(from_logits = true)"));
    CHECK(check("softmax", "binary_crossentropy"));
    CHECK_FALSE(check("relu", "mse"));
}

TEST_CASE("the output activation looks through Dropout and Flatten", "[language]") {
    auto c = compile("model m { input(4) Dense(2, activation = softmax) Dropout(0.1) }");
    require_ok(*c);
    CHECK(c->program.models[0].output_activation() == "softmax");
    auto d = compile("model m { input(4) Dense(2, activation = softmax) Dense(2) }");
    CHECK(d->program.models[0].output_activation() == "linear");
}

TEST_CASE("all errors of a file are reported, not only the first", "[language][errors]") {
    auto c = compile("model a { input(4) Dense(0) Dense(-1) }\nmodel b { input(4) Dropout(3) }\n");
    CHECK(c->diags.error_count() == 3);
}

TEST_CASE("did-you-mean picks near misses and nothing far away", "[diagnostics]") {
    std::vector<std::string> layers = {"Conv2D", "Conv1D", "Dense", "MaxPooling2D"};
    CHECK(did_you_mean("Conv2d", layers) == "Conv2D");
    CHECK(did_you_mean("Dnese", layers) == "Dense");
    CHECK(did_you_mean("maxpooling2d", layers) == "MaxPooling2D");
    CHECK(did_you_mean("Transformer", layers).empty());
    CHECK(did_you_mean("val_acc", {"loss", "val_loss", "val_accuracy"}) == "val_accuracy");
}

TEST_CASE("comments, trailing commas, string quotes and semicolons are accepted", "[language]") {
    auto c = compile("# comment\nmodel m {  # another\n input(4,)\n Dense(units = 3, activation = 'relu',);\n}\n");
    require_ok(*c);
    CHECK(c->program.models[0].output() == Shape{3});
}
