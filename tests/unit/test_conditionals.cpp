// Compile-time conditionals (`if c { } else if d { } else { }`), the comparison and boolean
// operators, `//` and `%`, and the compile-time functions int() and make_divisible(). Expected
// numbers are Python's (the operators) and Keras' _make_divisible written out in the comments.
#include "Helpers.h"
#include "ModelHelpers.h"
#include "syntax/AstDump.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

const Model& model_named(const Compilation& c, const std::string& name) {
    require_ok(c);
    for (const Model& m : c.program.models)
        if (m.name == name) return m;
    FAIL("no model " << name);
    std::abort();
}

// A classifier head as keras.applications writes it.
const char* kHead = R"(
block head(include_top = true, pooling = None, classes = 1000) {
    if include_top {
        GlobalAveragePooling2D(name = "avg_pool")
        Dense(classes, activation = softmax, name = "predictions")
    } else if pooling == avg {
        GlobalAveragePooling2D(name = "avg_pool")
    } else if pooling == "max" {
        GlobalMaxPooling2D(name = "max_pool")
    }
}
)";

// The output shape of a one-layer model whose Dense has `units` units.
Shape dense_out(const std::string& units) {
    auto c = compile("model m {\n  input(4)\n  Dense(" + units + ")\n}\n");
    return only_model(*c).output();
}

}  // namespace

TEST_CASE("if takes the body whose condition holds, else if chains, and no body passes the tensor through", "[if]") {
    auto c = compile(std::string(kHead) + R"(
model top {
    input(7, 7, 8)
    head(classes = 10)
}
model avg {
    input(7, 7, 8)
    head(include_top = false, pooling = avg)
}
model max {
    input(7, 7, 8)
    head(include_top = false, pooling = max)
}
model none {
    input(7, 7, 8)
    head(include_top = false)
}
)");
    const Model& top = model_named(*c, "top");
    CHECK(leaf_names(top) == std::vector<std::string>{"avg_pool", "predictions"});
    CHECK(top.output() == Shape({10}));
    CHECK(leaf_names(model_named(*c, "avg")) == std::vector<std::string>{"avg_pool"});
    CHECK(leaf_names(model_named(*c, "max")) == std::vector<std::string>{"max_pool"});  // pooling == "max": a name equals a string
    const Model& none = model_named(*c, "none");
    CHECK(leaf_names(none).empty());
    CHECK(none.output() == Shape({7, 7, 8}));  // the block's input, passed through
}

TEST_CASE("if works with repeat indices, graphs and `as`", "[if]") {
    // Every second iteration adds a residual; the if's last tensor is named and read by a merge.
    auto c = compile(R"(
block stack(depth) {
    repeat depth as i {
        if i % 2 == 0 {
            residual { Conv2D(4, 3, padding = same) }
        } else {
            Conv2D(4, 3, padding = same)
        }
    }
}
model m {
    input(8, 8, 4)
    stack(3)
    if true { Conv2D(4, 1) } as last
    from last
    Conv2D(4, 1)
    Add(last)
}
)");
    const Model& m = only_model(*c);
    std::vector<std::string> types;
    for (const LayerNode* l : m.leaves()) types.push_back(l->type);
    CHECK(types == std::vector<std::string>{"Conv2D", "Conv2D", "Add", "Conv2D", "Conv2D", "Conv2D", "Add"});
    auto l = m.leaves();
    CHECK(l[6]->inputs == std::vector<TensorId>{5, 4});  // Add(last) reads the running tensor, then `last`
}

TEST_CASE("names made inside an if's body are visible only there", "[if]") {
    auto c = compile(R"(model m {
    input(8, 8, 4)
    if true {
        Conv2D(4, 1) as inner
    }
    Add(inner)
}
)");
    CHECK(errors(*c) == std::vector<std::string>{"6:9: error: no tensor is named 'inner' here"});
}

TEST_CASE("a body not taken is checked for layer names but not expanded", "[if]") {
    auto c = compile(R"(
block b(big = false) {
    if big {
        Conv2d(8, 3)
    } else {
        Dense(2)
    }
}
model m {
    input(4)
    b()
}
)");
    CHECK(errors(*c) == std::vector<std::string>{"4:9: error: unknown layer or block 'Conv2d'; did you mean 'Conv2D'?"});
}

TEST_CASE("comparisons and boolean operators follow Python", "[if]") {
    // Each condition is true; a false one would leave the model with no layer.
    for (const char* cond : {"1 < 2 and 2 <= 2 and 3 > 2 and 3 >= 3 and 1 != 2 and 2 == 2.0",
                             "not 1 > 2", "false or true", "not false and not false",
                             "1 + 2 * 3 == 7", "None == None", "(1, 2) == (1, 2)", "relu == \"relu\"",
                             "x == None or x > 3",  // `or` reads its right side only when needed: None > 3 is an error
                             "not (x != None and x > 3)"}) {
        DYNAMIC_SECTION(cond) {
            auto c = compile(std::string("block b(x = None) {\n  if ") + cond +
                             " { Dense(3) }\n}\nmodel m {\n  input(4)\n  b()\n}\n");
            CHECK(only_model(*c).output() == Shape({3}));
        }
    }
}

TEST_CASE("// floors and % takes the divisor's sign, as in Python", "[if]") {
    // Python: -7 // 2 == -4, -7 % 3 == 2, 7 % -3 == -2, 7.5 // 2 == 3.0 (a float), 13 // 4 == 3.
    CHECK(dense_out("-7 // 2 + 10") == Shape({6}));
    CHECK(dense_out("-7 % 3") == Shape({2}));
    CHECK(dense_out("7 % -3 + 5") == Shape({3}));
    CHECK(dense_out("13 // 4") == Shape({3}));
    CHECK(errors(*compile("model m {\n  input(4)\n  Dense(7.5 // 2)\n}\n")) ==
          std::vector<std::string>{"3:9: error: argument 'units' of Dense must be an integer, got a number 3.0"});
    CHECK(errors(*compile("model m {\n  input(4)\n  Dense(3 % 0)\n}\n")) ==
          std::vector<std::string>{"3:11: error: division by zero"});
}

TEST_CASE("int() and make_divisible() compute what Keras' applications compute", "[if]") {
    // Python: int(2.7) == 2, int(-2.7) == -2. _make_divisible(v, 8) from Keras:
    //   new_v = max(8, int(v + 4) // 8 * 8); if new_v < 0.9 * v: new_v += 8
    //   32 * 0.35 = 11.2: int(15.2) // 8 * 8 = 8, and 8 < 10.08, so 16
    //   24 * 0.75 = 18.0: int(22.0) // 8 * 8 = 16, and 16 < 16.2, so 24
    //   1280 * 1.4 = 1792.0: 1792
    //   5: max(8, 0) = 8;  100 with min_value 120: 120
    CHECK(dense_out("int(2.7)") == Shape({2}));
    CHECK(dense_out("int(-2.7) + 3") == Shape({1}));
    CHECK(dense_out("make_divisible(32 * 0.35, 8)") == Shape({16}));
    CHECK(dense_out("make_divisible(24 * 0.75, 8)") == Shape({24}));
    CHECK(dense_out("make_divisible(1280 * 1.4, 8)") == Shape({1792}));
    CHECK(dense_out("make_divisible(5, 8)") == Shape({8}));
    CHECK(dense_out("make_divisible(100, 8, min_value = 120)") == Shape({120}));
    CHECK(errors(*compile("model m {\n  input(4)\n  Dense(make_divisible(5))\n}\n")) ==
          std::vector<std::string>{"3:9: error: make_divisible() is missing required argument 'divisor'"});
}

TEST_CASE("bad conditions are located errors", "[if][errors]") {
    auto err = [](const std::string& cond) {
        return errors(*compile("block b(pooling = avg, n = 2) {\n  if " + cond +
                               " { Dense(3) }\n}\nmodel m {\n  input(4)\n  b()\n}\n"));
    };
    CHECK(err("pooling") == std::vector<std::string>{
                                "2:6: error: the condition of 'if' must be true or false, got a name avg; compare it, e.g. 'pooling == avg'"});
    CHECK(err("n + 1") == std::vector<std::string>{
                              "2:8: error: the condition of 'if' must be true or false, got an integer 3; compare it, e.g. 'pooling == avg'"});
    CHECK(err("polling == avg") ==
          std::vector<std::string>{"2:6: error: unknown name 'polling' in a condition; did you mean 'pooling'?: neither 'polling' "
                                   "nor 'avg' is a parameter or repeat index, so the comparison never changes"});
    CHECK(err("avg == polling").front().rfind("2:13: error: unknown name 'polling'", 0) == 0);  // the misspelt side
    CHECK(err("n > 1 and include_top") ==
          std::vector<std::string>{"2:16: error: unknown name 'include_top' in a condition: a condition tests the block's "
                                   "parameters and repeat indices"});
    CHECK(err("n and true") == std::vector<std::string>{"2:6: error: 'and' needs true or false, got an integer 2"});
    CHECK(err("not n") == std::vector<std::string>{"2:10: error: 'not' needs true or false, got an integer 2"});
    CHECK(err("pooling < 3") == std::vector<std::string>{
                                    "2:14: error: cannot compare a name avg and an integer 3 with '<': only numbers are ordered"});
}

TEST_CASE("a long chain of `not` is refused before the parser can overflow its stack", "[if][errors]") {
    std::string nots;
    for (int i = 0; i < 5000; ++i) nots += "not ";
    auto c = compile("block b {\n  if " + nots + "true { Dense(3) }\n}\n");
    REQUIRE(c->diags.has_errors());
    CHECK(errors(*c).front().find("nesting deeper than 100 levels") != std::string::npos);
}

TEST_CASE("if, else, and, or and not keep their meaning only where they are keywords", "[if]") {
    // `if` and `else` are names elsewhere (a block parameter, an argument's name).
    auto c = compile("block b(else = 3) {\n  Dense(else)\n}\nmodel m {\n  input(4)\n  b(else = 5)\n}\n");
    CHECK(only_model(*c).output() == Shape({5}));
}

TEST_CASE("the AST dump shows an if chain: its condition, its body, and `else if` as an if in the else body", "[if][dump]") {
    auto c = compile("block b(x = 1) {\n  if x == 1 and not false { Dense(2) } else if x > 2 { Dense(3) } else { Dense(4) }\n}\n");
    require_ok(*c);
    std::string got = dump_ast(c->files[0], "test.cnn");
    INFO(got);
    CHECK_THAT(got, Catch::Contains("    if @2:3\n      cond = binary and @2:13\n        binary == @2:8\n          ref x @2:6\n"
                                    "          int 1 @2:11\n        not @2:17\n          bool false @2:21\n"
                                    "      then @2:3\n        call Dense() @2:29\n"));
    CHECK_THAT(got, Catch::Contains("      else @2:40\n        if @2:45\n          cond = binary > @2:50\n"));
    CHECK_THAT(got, Catch::Contains("          else @2:67\n            call Dense() @2:74\n"));
}
