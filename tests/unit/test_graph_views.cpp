// What a user sees of a graph model: Keras 3's functional summary (InputLayer rows, "Connected
// to", collapsed and expanded blocks) and `cnnc graph`'s drawing (the DOT text exactly, an SVG
// through Graphviz, and the errors when it cannot be made). The graphs here are stacks whose
// inputs the test rewires by hand; graph files written in the language are in test_graph_summaries.cpp.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "Helpers.h"
#include "TempDir.h"
#include "summary/Graph.h"
#include "summary/Summary.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const char* kPair = "block pair(n) { Dense(n)  Dense(n) }\nmodel g { input(4)  pair(3)  Dense(2) }\n";

// kPair's model with its last layer reading the block's output and also the model's input (a
// skip around the block): leaves dense (0) and dense_1 (1) in the block, then dense (2).
Model skip_model(const Compilation& c) {
    Model m = c.program.models.at(0);
    REQUIRE(m.layers.size() == 2);
    REQUIRE(m.layers[1].id == 2);
    m.layers[1].inputs = {1, input_tensor(0)};
    REQUIRE(!m.is_sequential());
    return m;
}

std::string rule(const char* l, const char* fill, const char* mid, const char* r) {
    std::string s = l;
    const int widths[] = {31, 27, 17, 28};
    for (int c = 0; c < 4; ++c) {
        for (int i = 0; i < widths[c]; ++i) s += fill;
        s += c < 3 ? mid : r;
    }
    return s + "\n";
}

}  // namespace

TEST_CASE("a graph model prints Keras 3's functional summary, with Connected to", "[summary][graph]") {
    auto c = compile(kPair);
    require_ok(*c);
    Model m = skip_model(*c);
    // Keras 3 at 108 columns: positions (0.3, 0.56, 0.74, 1.0) give 32, 28, 19 and 29, less the
    // five borders shared out as rich does (1, 1, 2, 1): interiors 31, 27, 17, 28.
    std::string want = std::string("Model: \"g\"\n") + rule("┏", "━", "┳", "┓") +
                       "┃ Layer (type)                  ┃ Output Shape              ┃         Param # ┃ Connected to               ┃\n" +
                       rule("┡", "━", "╇", "┩") +
                       "│ input_layer (InputLayer)      │ (None, 4)                 │               0 │ -                          │\n" +
                       rule("├", "─", "┼", "┤") +
                       "│ pair (pair)                   │ (None, 3)                 │              27 │ input_layer[0][0]          │\n" +
                       rule("├", "─", "┼", "┤") +
                       "│ dense (Dense)                 │ (None, 2)                 │               8 │ pair[0][0],                │\n"
                       "│                               │                           │                 │ input_layer[0][0]          │\n" +
                       rule("└", "─", "┴", "┘") +
                       // 4*3+3 + 3*3+3 in the block, 3*2+2 after it.
                       " Total params: 35 (140.00 B)\n"
                       " Trainable params: 35 (140.00 B)\n"
                       " Non-trainable params: 0 (0.00 B)\n"
                       " Forward FLOPs per sample: 62\n";
    CHECK(render_summary(m) == want);
}

TEST_CASE("expanded, Connected to names the leaf layers by their path, a block's row lists what enters it", "[summary][graph]") {
    auto c = compile(kPair);
    require_ok(*c);
    Model m = skip_model(*c);
    SummaryOptions o;
    o.expand = true;
    std::string s = render_summary(m, o);
    INFO(s);
    CHECK(has(s, "│ pair (pair)                   │ (None, 3)                 │              27 │ input_layer[0][0]          │\n"));
    CHECK(has(s, "│ └ dense (Dense)               │ (None, 3)                 │              15 │ input_layer[0][0]          │\n"));
    CHECK(has(s, "│ └ dense_1 (Dense)             │ (None, 3)                 │              12 │ pair/dense[0][0]           │\n"));
    CHECK(has(s, "│ dense (Dense)                 │ (None, 2)                 │               8 │ pair/dense_1[0][0],        │\n"
                 "│                               │                           │                 │ input_layer[0][0]          │\n"));
    // --flops puts its column before Connected to; --ascii draws Keras 2's rules, the second
    // input on a line of its own.
    o.flops = true;
    o.ascii = true;
    s = render_summary(m, o);
    CHECK(has(s, " Layer (type)                    Output Shape                        Param #          FLOPs   Connected to\n"));
    CHECK(has(s, " dense (Dense)                   (None, 2)                                 8             14   pair/dense_1[0][0],\n"
                 "                                                                                              input_layer[0][0]\n"));
}

TEST_CASE("a layer reading one tensor twice lists it twice, as Keras does, a sequential model keeps its table", "[summary][graph]") {
    auto c = compile("model t { input(4)  Dense(4)  Dense(4) }\n");
    require_ok(*c);
    Model m = c->program.models.at(0);
    std::string sequential = render_summary(m);
    CHECK(!has(sequential, "Connected to"));
    CHECK(!has(sequential, "InputLayer"));
    m.layers[1].inputs = {0, 0};
    std::string s = render_summary(m);
    CHECK(has(s, "│ dense_1 (Dense)               │ (None, 4)                 │              20 │ dense[0][0],               │\n"
                 "│                               │                           │                 │ dense[0][0]                │\n"));
}

TEST_CASE("model inputs take Keras' names: input_layer, input_layer_1... unless named", "[summary][graph]") {
    Model m;
    m.inputs = {{"input", Shape{4}, {}}, {"image", Shape{8, 8, 3}, {}}, {"input", Shape{2}, {}}};
    CHECK(input_layer_names(m) == std::vector<std::string>{"input_layer", "image", "input_layer_1"});
}

TEST_CASE("the DOT text: a node per input and layer, an edge per tensor read, blocks as clusters", "[graph]") {
    auto c = compile(kPair);
    require_ok(*c);
    Model m = skip_model(*c);
    auto node = [](const std::string& id, const std::string& title, const std::string& facts, int cols) {
        return id + " [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"6\"><tr><td colspan=\"" +
               std::to_string(cols) + "\" bgcolor=\"black\"><font color=\"white\">" + title + "</font></td></tr><tr>" + facts +
               "</tr></table>>];\n";
    };
    std::string want = std::string("digraph \"g\" {\n") +
                       "  graph [rankdir=TB, fontname=\"Helvetica\"];\n"
                       "  node [shape=plaintext, fontname=\"Helvetica\"];\n"
                       "  edge [penwidth=2];\n"
                       "  " + node("input_0", "<b>input_layer</b> (InputLayer)", "<td>Output shape: <b>(None, 4)</b></td>", 1) +
                       "  subgraph cluster_0 {\n"
                       "    label=<<b>pair</b> (pair)>; style=dashed; labeljust=l;\n"
                       "    " + node("layer_0", "<b>dense</b> (Dense)", "<td>Output shape: <b>(None, 3)</b></td><td>Params: <b>15</b></td>", 2) +
                       "    " + node("layer_1", "<b>dense_1</b> (Dense)", "<td>Output shape: <b>(None, 3)</b></td><td>Params: <b>12</b></td>", 2) +
                       "  }\n"
                       "  " + node("layer_2", "<b>dense</b> (Dense)", "<td>Output shape: <b>(None, 2)</b></td><td>Params: <b>8</b></td>", 2) +
                       "  input_0 -> layer_0;\n"
                       "  layer_0 -> layer_1;\n"
                       "  layer_1 -> layer_2;\n"
                       "  input_0 -> layer_2;\n"
                       "}\n";
    CHECK(model_dot(m) == want);

    // Nested blocks nest their clusters; a tensor read twice is one edge.
    auto n = compile("block inner(k) { Dense(k) }\nblock outer(k) { inner(k)  Dense(k) }\nmodel t { input(4)  outer(3) }\n");
    require_ok(*n);
    Model t = n->program.models.at(0);
    t.layers[0].children[1].inputs = {0, 0};
    std::string dot = model_dot(t);
    CHECK(has(dot, "  subgraph cluster_0 {\n    label=<<b>outer</b> (outer)>; style=dashed; labeljust=l;\n"
                   "    subgraph cluster_1 {\n      label=<<b>inner</b> (inner)>; style=dashed; labeljust=l;\n      layer_0 "));
    CHECK(has(dot, "  layer_0 -> layer_1;\n}\n"));
    CHECK(dot.find("layer_0 -> layer_1") == dot.rfind("layer_0 -> layer_1"));
}

TEST_CASE("cnnc graph writes .dot itself and .svg and .png through Graphviz", "[graph][cli]") {
    TempDir dir;
    std::ofstream(dir / "g.cnn") << kPair;
    CommandResult r = run_cnnc("graph g.cnn -o out/g.dot", dir.path());
    INFO(r.output);
    REQUIRE(r.status == 0);
    auto c = compile(kPair);
    require_ok(*c);
    CHECK(read(dir / "out/g.dot") == model_dot(c->program.models.at(0)));

    if (run_shell("command -v dot").status != 0) skip("Graphviz's dot is not installed (scripts/install-deps installs it)");
    r = run_cnnc("graph g.cnn -o g.svg", dir.path());
    INFO(r.output);
    REQUIRE(r.status == 0);
    std::string svg = read(dir / "g.svg");
    CHECK(has(svg, "<svg"));
    for (const char* text : {"input_layer", "dense_1", "(None, 3)", "pair"}) CHECK(has(svg, text));
    r = run_cnnc("graph g.cnn -o g.png", dir.path());
    REQUIRE(r.status == 0);
    CHECK(read(dir / "g.png").substr(0, 8) == "\x89PNG\r\n\x1a\n");
    // Nothing left beside the outputs: neither dot's staging file nor the DOT text.
    int files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
    CHECK(files == 3);
}

TEST_CASE("cnnc graph without Graphviz, with a bad output or a wrong model: an error and a non-zero exit", "[graph][cli]") {
    TempDir dir;
    std::ofstream(dir / "g.cnn") << kPair;
    std::ofstream(dir / "old.svg") << "old";
    CommandResult r = run_cnnc("graph g.cnn -o old.svg", dir.path(), "PATH=/nonexistent");
    CHECK(r.status == 1);
    CHECK(has(r.output, "cannot write 'old.svg': Graphviz's `dot` program is not on the PATH; install Graphviz"));
    CHECK(read(dir / "old.svg") == "old");  // untouched

    r = run_cnnc("graph g.cnn -o g.jpg", dir.path());
    CHECK(r.status == 2);
    CHECK(has(r.output, "-o 'g.jpg' must end in .svg, .png or .dot"));

    std::ofstream(dir / "two.cnn") << "model first { input(4)  Dense(2) }\nmodel second { input(4)  Dense(3) }\n";
    r = run_cnnc("graph two.cnn -o t.dot", dir.path());
    CHECK(r.status == 1);
    CHECK(has(r.output, "several models and trains none: say which with --model"));
    r = run_cnnc("graph two.cnn -o t.dot --model secnd", dir.path());
    CHECK(r.status == 1);
    CHECK(has(r.output, "no model named 'secnd'; did you mean 'second'?"));
    r = run_cnnc("graph two.cnn -o t.dot --model second", dir.path());
    CHECK(r.status == 0);
    CHECK(has(read(dir / "t.dot"), "digraph \"second\""));
}

TEST_CASE("graph is listed by help and completes like summary", "[graph][cli]") {
    CHECK(has(run_cnnc("help").output, "\n  graph "));
    CHECK(has(run_cnnc("help graph").output, "--output"));
    CHECK(has(run_cnnc("grap x.cnn").output, "did you mean 'graph'?"));
    TempDir dir;
    std::ofstream(dir / "two.cnn") << "model first { input(4)  Dense(2) }\nmodel second { input(4)  Dense(3) }\n";
    CommandResult r = run_cnnc("__complete -- graph two.cnn --model ''", dir.path());
    CHECK(r.output == "first\nsecond\n");
}

TEST_CASE("the summary of a graph model with errors and no input names the missing tensor '?'", "[summary][graphs]") {
    // The check fuzzer's find (tests/fuzz/regressions/check/): a model whose input statement is
    // misspelt has no input, yet its layers read input 0; rendering its table threw out_of_range.
    auto c = compile("model m {\n    inptu(16, 16, 3)\n    Concatenate {\n        branch { Conv2D(8, 3, padding = same) }\n"
                     "        branch { MaxPooling2D(2) }\n    }\n}\n");
    REQUIRE(!c->ok());
    REQUIRE(c->program.models.size() == 1);
    std::string table;
    REQUIRE_NOTHROW(table = render_summary(c->program.models[0], SummaryOptions{}));
    CHECK(table.find("?[0][0]") == std::string::npos);
    CHECK(table.find("│ ?") != std::string::npos);
}
