// Models as graphs, parsed and checked: `as` / `from`, merge calls with tensor arguments, merge
// branches, residual / shortcut, block tensor parameters, names local to a block or a repeat,
// several inputs and outputs. Each test checks the leaves' ids, the tensors they read and their
// shapes; parameter counts are computed by hand in the comments.
#include <fmt/format.h>

#include "Helpers.h"
#include "ModelHelpers.h"
#include "syntax/AstDump.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

std::vector<TensorId> reads(const Model& m, size_t leaf) { return m.leaves().at(leaf)->inputs; }

// The first error's diagnostic (headline and notes).
const Diagnostic& first_error(const Compilation& c) {
    for (const auto& d : c.diags.all())
        if (d.severity == Severity::Error) return d;
    FAIL("no error");
    std::abort();
}

}  // namespace

TEST_CASE("a plain stack is still a sequential model, each layer reading the one before", "[graphs]") {
    auto c = compile("model m {\n  input(8)\n  Dense(4)\n  Dense(2)\n}\n");
    const Model& m = only_model(*c);
    CHECK(m.is_sequential());
    CHECK(reads(m, 0) == std::vector<TensorId>{input_tensor(0)});
    CHECK(reads(m, 1) == std::vector<TensorId>{0});
    CHECK(m.outputs == std::vector<TensorId>{1});
    REQUIRE(m.inputs.size() == 1);
    CHECK(m.inputs[0].name == "input");
}

TEST_CASE("`as` names a point, `from` reads it again, a merge call reads it as an extra input", "[graphs]") {
    auto c = compile(R"(model m {
  input(8, 8, 3)
  Conv2D(4, 3, padding = same) as stem
  Conv2D(4, 3, padding = same)
  Conv2D(4, 3, padding = same) as a
  from stem
  Conv2D(6, 1) as b
  from a
  Concatenate(b, stem, axis = -1)
}
)");
    const Model& m = only_model(*c);
    CHECK_FALSE(m.is_sequential());
    auto l = m.leaves();
    REQUIRE(l.size() == 5);
    for (size_t i = 0; i < l.size(); ++i) CHECK(l[i]->id == static_cast<TensorId>(i));
    CHECK(reads(m, 1) == std::vector<TensorId>{0});
    CHECK(reads(m, 2) == std::vector<TensorId>{1});
    CHECK(reads(m, 3) == std::vector<TensorId>{0});     // from stem
    CHECK(reads(m, 4) == std::vector<TensorId>{2, 3, 0});  // running a, then b, stem
    CHECK(l[4]->out == Shape{8, 8, 4 + 6 + 4});
    CHECK(l[4]->ins == std::vector<Shape>{{8, 8, 4}, {8, 8, 6}, {8, 8, 4}});
    CHECK(l[4]->in == Shape{8, 8, 4});
}

TEST_CASE("a merge whose shapes disagree is located at the merge and names each input's origin", "[graphs][errors]") {
    auto c = compile(R"(model m {
  input(8, 8, 3)
  Conv2D(4, 3, padding = same) as stem
  Conv2D(6, 3, padding = same)
  Add(stem)
}
)");
    REQUIRE(errors(*c).size() == 1);
    CHECK_THAT(errors(*c)[0], Catch::StartsWith("5:3: error: layer 'add' (Add) cannot merge its inputs (None, 8, 8, 6) from layer "
                                                "'conv2d_1' (Conv2D) (line 4), (None, 8, 8, 4) from layer 'conv2d' (Conv2D) (line 3)"));
    const Diagnostic& d = first_error(*c);
    REQUIRE(d.notes.size() == 2);
    CHECK(d.notes[0].loc.line == 4);
    CHECK(d.notes[1].loc.line == 3);
    CHECK_THAT(d.notes[1].message, Catch::Contains("(None, 8, 8, 4)"));
}

TEST_CASE("branches run from the running tensor and merge in order, an empty branch is the identity", "[graphs]") {
    auto c = compile(R"(model m {
  input(16, 16, 8)
  Concatenate {
    branch { Conv2D(4, 1) }
    branch { Conv2D(2, 1)  Conv2D(6, 3, padding = same) }
    branch { }
  } as cat
  Conv2D(3, 1)
}
)");
    const Model& m = only_model(*c);
    auto l = m.leaves();
    REQUIRE(l.size() == 5);
    CHECK(reads(m, 0) == std::vector<TensorId>{input_tensor(0)});
    CHECK(reads(m, 1) == std::vector<TensorId>{input_tensor(0)});
    CHECK(reads(m, 2) == std::vector<TensorId>{1});
    CHECK(l[3]->type == "Concatenate");
    CHECK(reads(m, 3) == (std::vector<TensorId>{0, 2, input_tensor(0)}));
    CHECK(l[3]->out == Shape{16, 16, 4 + 6 + 8});
    CHECK(reads(m, 4) == std::vector<TensorId>{3});
    // 1x1 8->4: 36; 1x1 8->2: 18; 3x3 2->6: 3*3*2*6 + 6 = 114; 1x1 18->3: 57.
    CHECK(m.param_count() == 36 + 18 + 114 + 57);
}

TEST_CASE("residual is an Add of its body and the identity, or of its body and its shortcut", "[graphs]") {
    auto c = compile(R"(model m {
  input(8, 8, 4)
  residual { Conv2D(4, 3, padding = same) }
  residual {
    Conv2D(8, 3, strides = 2, padding = same)
  } shortcut {
    Conv2D(8, 1, strides = 2)
  }
}
)");
    const Model& m = only_model(*c);
    auto l = m.leaves();
    REQUIRE(l.size() == 5);
    CHECK(l[1]->type == "Add");
    CHECK(reads(m, 1) == (std::vector<TensorId>{0, input_tensor(0)}));
    CHECK(reads(m, 2) == std::vector<TensorId>{1});
    CHECK(reads(m, 3) == std::vector<TensorId>{1});
    CHECK(reads(m, 4) == (std::vector<TensorId>{2, 3}));
    CHECK(l[4]->name == "add_1");
    CHECK(m.output() == Shape{4, 4, 8});
    // 3x3 4->4: 148; 3x3 4->8 stride 2: 296; 1x1 4->8: 40. Add: no weights; 8*8*4 + 4*4*8 FLOPs.
    CHECK(m.param_count() == 148 + 296 + 40);
    CHECK(l[1]->flops == 256);
    CHECK(l[4]->flops == 128);
}

TEST_CASE("names inside a block or a repeat iteration are local to it, a tensor parameter is visible inside", "[graphs]") {
    auto c = compile(R"(
block basic(filters) {
  Conv2D(filters, 3, padding = same) as a
  Conv2D(filters, 3, padding = same)
  Add(a)
}
block up(filters, skip) {
  Conv2D(filters, 1)
  Concatenate(skip)
}
model m {
  input(8, 8, 4)
  Conv2D(4, 1) as e1
  repeat 3 { basic(4) }
  repeat 2 { Conv2D(4, 1) as x  Add(x) }
  up(2, skip = e1) as out
}
)");
    const Model& m = only_model(*c);
    auto l = m.leaves();
    REQUIRE(l.size() == 1 + 9 + 4 + 2);
    // The third basic block: leaves 7 (a), 8, 9 (add reading 8 and 7).
    CHECK(reads(m, 9) == (std::vector<TensorId>{8, 7}));
    CHECK(reads(m, 11) == (std::vector<TensorId>{10, 10}));
    CHECK(reads(m, 13) == (std::vector<TensorId>{12, 12}));
    // up: its Conv2D reads the running tensor, its Concatenate the conv and e1 (leaf 0).
    CHECK(reads(m, 14) == std::vector<TensorId>{13});
    CHECK(reads(m, 15) == (std::vector<TensorId>{14, 0}));
    CHECK(m.output() == Shape{8, 8, 2 + 4});
}

TEST_CASE("several inputs start with `from`, `output a, b` lists the outputs", "[graphs]") {
    auto c = compile(R"(model m {
  input image(8, 8, 1)
  input meta(3)
  from image
  Flatten()
  Dense(5) as features
  from meta
  Dense(5)
  Add(features) as both
  Dense(1) as score
  from both
  Dense(2) as kind
  output score, kind
}
)");
    const Model& m = only_model(*c);
    REQUIRE(m.inputs.size() == 2);
    CHECK(m.inputs[0].name == "image");
    CHECK(m.inputs[1].name == "meta");
    CHECK(m.inputs[1].shape == Shape{3});
    CHECK(m.input == Shape{8, 8, 1});
    CHECK(m.has_input);
    CHECK(reads(m, 0) == std::vector<TensorId>{input_tensor(0)});
    CHECK(reads(m, 2) == std::vector<TensorId>{input_tensor(1)});
    CHECK(reads(m, 3) == (std::vector<TensorId>{2, 1}));
    CHECK(m.outputs == (std::vector<TensorId>{4, 5}));
    CHECK(m.tensor_shape(m.outputs[1]) == Shape{2});
    CHECK_FALSE(m.is_sequential());
    // Dense 64->5: 325; 3->5: 20; 5->1: 6; 5->2: 12.
    CHECK(m.param_count() == 325 + 20 + 6 + 12);
}

TEST_CASE("the new keywords stay usable as names", "[graphs]") {
    auto c = compile(R"(block from(output) { Dense(output) }
model branch {
  input input(4)
  from(3) as shortcut
  from shortcut
  Dense(2, name = "residual") as output
}
)");
    const Model& m = only_model(*c);
    CHECK(m.inputs.at(0).name == "input");
    CHECK(m.output() == Shape{2});
    CHECK(m.is_sequential());
}

TEST_CASE("graph mistakes are located errors", "[graphs][errors]") {
    struct Case {
        const char* body;
        const char* error;
    };
    const Case cases[] = {
        {"  Dense(4) as feats\n  from feat\n", "3:8: error: no tensor is named 'feat' here; did you mean 'feats'?"},
        {"  Dense(4) as a\n  Dense(4) as a\n", "3:15: error: the name 'a' is already given to a tensor here"},
        {"  Dense(4) as a\n  from input\n  Dense(3)\n", "2:15: error: the tensor named 'a' leads nowhere"},
        {"  Dense(4)\n  from input\n  Dense(3)\n", "2:3: error: the output of layer 'dense' (Dense) leads nowhere"},
        {"  Add()\n", "2:3: error: layer 'add' (Add) merges at least 2 tensors, but gets 1"},
        {"  Dense(4) as a\n  Dense(4) as b\n  Subtract(a, b)\n", "4:3: error: layer 'subtract' (Subtract) merges at most 2 tensors, but gets 3"},
        {"  Concatenate { branch { Dense(2) } }\n", "2:3: error: layer 'concatenate' (Concatenate) merges at least 2 tensors, but gets 1"},
        {"  Dense(4)\n  output z\n", "3:10: error: no tensor is named 'z' here"},
        {"  Dense(4) as a\n  Dense(a)\n", "3:9: error: 'a' is a tensor, but Dense reads only the running tensor"},
        {"  Concatenate(2) { branch { } branch { } }\n", "2:15: error: the tensors Concatenate merges are its branches"},
        {"  Concatenate(-1)\n", "2:15: error: Concatenate's positional arguments name the tensors it merges"},
        {"  Dense { branch { } branch { } }\n", "2:3: error: 'Dense' takes no branches"},
        {"  repeat 2 { Dense(4) as a }\n  from a\n", "3:8: error: no tensor is named 'a' here"},
        {"  residual { Dense(4) output x }\n", "2:23: error: 'output' lists a model's outputs"},
    };
    for (const auto& k : cases) {
        auto c = compile(fmt::format("model m {{ input(4)\n{}}}\n", k.body));  // the body from line 2
        INFO(k.body);
        auto e = errors(*c);
        REQUIRE_FALSE(e.empty());
        CHECK_THAT(e.front(), Catch::StartsWith(k.error));
    }
}

TEST_CASE("a tensor's name where a layer takes a name is that name", "[graphs]") {
    auto c = compile("model m {\n  input(4)\n  Activation(relu) as relu\n  Dense(4, activation = relu)\n  Activation(relu)\n}\n");
    const Model& m = only_model(*c);
    CHECK(m.leaves().at(1)->args.text("activation") == "relu");
}

TEST_CASE("a block parameter holding a value is not a tensor to merge", "[graphs][errors]") {
    auto c = compile("block b(k = 2) {\n  Add(k)\n}\nmodel m {\n  input(4)\n  b()\n}\n");
    REQUIRE(errors(*c).size() == 1);
    CHECK_THAT(errors(*c)[0], Catch::StartsWith("2:7: error: 'k' is a parameter holding 2, not a tensor"));
}

TEST_CASE("a model with several inputs says which one its layers start from", "[graphs][errors]") {
    auto c = compile("model m {\n  input a(4)\n  input b(4)\n  Dense(2)\n}\n");
    REQUIRE(errors(*c).size() == 1);
    CHECK_THAT(errors(*c)[0], Catch::StartsWith("4:3: error: the model has several inputs (a, b): say which one this reads with `from a`"));
    auto unread = compile("model m {\n  input a(4)\n  input b(4)\n  from a\n  Dense(2)\n}\n");
    REQUIRE(errors(*unread).size() == 1);
    CHECK_THAT(errors(*unread)[0], Catch::StartsWith("3:9: error: the tensor named 'b' leads nowhere"));
}

TEST_CASE("models/resnet20_cifar.cnn is ResNet-20: 20 weighted layers, 271,690 parameters", "[graphs][models]") {
    auto c = compile_repo_file("models/resnet20_cifar.cnn");
    const Model& m = only_model(*c);
    CHECK(m.input == Shape{32, 32, 3});
    CHECK(m.output() == Shape{10});
    CHECK(m.output_activation() == "softmax");
    // Without BatchNormalization, every convolution has a bias: a 3x3 conv from C to F filters has
    // 9*C*F + F weights, a 1x1 projection C*F + F.
    //   stem   3x3, 3 -> 16:                          9*3*16 + 16          =     448
    //   stage 1, three blocks of two 3x3 16 -> 16:  3 * 2 * (9*16*16 + 16)  = 6 * 2320  =  13,920
    //   stage 2, first block: 3x3 16 -> 32 (4,640), 3x3 32 -> 32 (9,248), 1x1 16 -> 32 (544) = 14,432
    //            two blocks of two 3x3 32 -> 32:    4 * 9,248                       =  36,992
    //   stage 3, first block: 3x3 32 -> 64 (18,496), 3x3 64 -> 64 (36,928), 1x1 32 -> 64 (2,112) = 57,536
    //            two blocks of two 3x3 64 -> 64:    4 * 36,928                      = 147,712
    //   Dense 64 -> 10:                             64*10 + 10                      =     650
    //   total: 448 + 13,920 + 14,432 + 36,992 + 57,536 + 147,712 + 650             = 271,690
    CHECK(m.param_count() == 271690);
    int convs = 0, dense = 0, adds = 0;
    for (const LayerNode* l : m.leaves()) {
        convs += l->type == "Conv2D" && l->weights.at(0).shape[0] == 3;
        dense += l->type == "Dense";
        adds += l->type == "Add";
    }
    CHECK(convs + dense == 20);  // the 6n + 2 weighted layers (projections aside)
    CHECK(adds == 9);
    // The stride-2 blocks: the first Add of stage 3 reads (8, 8, 64) from both sides.
    const LayerNode* first_stage3_add = nullptr;
    for (const LayerNode* l : m.leaves())
        if (l->type == "Add" && l->out == Shape{8, 8, 64}) {
            first_stage3_add = l;
            break;
        }
    REQUIRE(first_stage3_add);
    CHECK(first_stage3_add->ins == (std::vector<Shape>{{8, 8, 64}, {8, 8, 64}}));
}

TEST_CASE("dump ast prints the graph statements", "[graphs][dump]") {
    auto c = compile(R"(model m {
  input image(8, 8, 3)
  from image
  Conv2D(4, 3) as c
  residual { Conv2D(4, 3, padding = same) } shortcut { }
  Concatenate(axis = -1) { branch { } branch { } } as z
  output z
}
)");
    require_ok(*c);
    std::string ast = dump_ast(c->files.at(0), "test.cnn");
    CHECK_THAT(ast, Catch::Contains("    input image @2:3\n"));
    CHECK_THAT(ast, Catch::Contains("    from image @3:3\n"));
    CHECK_THAT(ast, Catch::Contains("      named c @4:19\n"));
    CHECK_THAT(ast, Catch::Contains("    residual @5:3\n      body @5:3\n"));
    CHECK_THAT(ast, Catch::Contains("      shortcut @5:45\n"));
    CHECK_THAT(ast, Catch::Contains("    merge Concatenate() @6:3\n"));
    CHECK_THAT(ast, Catch::Contains("      branch @6:28\n      branch @6:39\n      named z @6:55\n"));
    CHECK_THAT(ast, Catch::Contains("    output z @7:3\n"));
}

TEST_CASE("augmentation, frozen blocks, unfreeze and features() work on a graph", "[graphs]") {
    auto c = compile(R"(
augmentation flip { RandomFlip(horizontal) }
block body(filters) {
  residual { Conv2D(filters, 3, padding = same, activation = relu) }
}
dataset digits {
  train = idx("x-images", "x-labels")
  labels = int
}
model base {
  input(28, 28, 1)
  flip
  Conv2D(4, 3, padding = same) as stem
  body(4, trainable = false, weights = "body.weights.h5")
  Add(stem)
  GlobalAveragePooling2D()
}
model head {
  input(4)
  Dense(10, activation = softmax)
}
model whole {
  input(28, 28, 1)
  Conv2D(4, 3, padding = same) as stem
  body(4, trainable = false)
  Add(stem)
  GlobalAveragePooling2D()
  Dense(10, activation = softmax)
}
dataset pooled { train = features(base, digits.train) }
train head on pooled.train { loss = sparse_categorical_crossentropy }
train whole on digits.train { loss = sparse_categorical_crossentropy  unfreeze = [conv2d] }
)");
    require_ok(*c);
    const Model& base = *c->program.model("base");
    CHECK(base.output() == Shape{4});
    // Frozen: the block's Conv2D (4*9*4 + 4 = 148 weights); trainable: the stem (1*9*4 + 4 = 40).
    CHECK(base.param_count() == 148 + 40);
    CHECK(base.trainable_count() == 40);
    CHECK(base.leaves().at(0)->kind->augmentation);
    CHECK(base.layers.at(2).weights_file == "body.weights.h5");
    CHECK(base.layers.at(2).children.at(0).type == "Conv2D");
    CHECK_FALSE(base.layers.at(2).children.at(0).trainable);
    REQUIRE(c->program.trains.size() == 2);
    CHECK(c->program.trains[1].unfreeze == std::vector<std::string>{"conv2d"});
    CHECK(c->program.model("whole")->output_activation() == "softmax");
}

TEST_CASE("extracting features from a model with several outputs, or training it on unkeyed data, is a located error", "[graphs][errors]") {
    auto c = compile(R"(dataset digits {
  train = idx("x-images", "x-labels")
}
model two {
  input(28, 28, 1)
  Flatten() as flat
  Dense(10, activation = softmax) as a
  from flat
  Dense(10, activation = softmax) as b
  output a, b
}
dataset f { train = features(two, digits.train) }
train two on digits.train { loss = sparse_categorical_crossentropy }
evaluate two on digits.train { loss = sparse_categorical_crossentropy }
)");
    auto e = errors(*c);
    REQUIRE(e.size() == 3);
    CHECK_THAT(e[0], Catch::StartsWith("12:30: error: extracting features with a model with several inputs or outputs is not "
                                       "supported yet: model 'two' has 1 input and 2 outputs"));
    CHECK_THAT(e[1], Catch::StartsWith("13:14: error: model 'two' has 1 input and 2 outputs, so its data gives one array per input"));
    CHECK_THAT(e[2], Catch::StartsWith("14:17: error: model 'two' has 1 input and 2 outputs, so its data gives one array per input"));
}
