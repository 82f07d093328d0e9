// Conformance over the layer list: every registered layer has a documented schema and worked
// examples whose shapes and parameter counts (computed by hand) the checker reproduces. Adding a
// layer to layers/LayerList.def without examples fails here.
#include <fmt/format.h>

#include "Helpers.h"

using namespace cnnc;
using namespace cnnc::test;

TEST_CASE("every layer's worked examples check out", "[layers]") {
    REQUIRE(all_layers().size() >= 28);
    auto dims = [](const Shape& s) {
        std::string d;
        for (size_t i = 0; i < s.rank(); ++i) d += (i ? ", " : "") + std::to_string(s[i]);
        return d;
    };
    for (const LayerKind* k : all_layers()) {
        DYNAMIC_SECTION(k->name) {
            CHECK_FALSE(k->doc.empty());
            REQUIRE((k->is_merge() ? bool(k->merge) : bool(k->infer)));
            REQUIRE_FALSE(k->examples.empty());
            for (const auto& ex : k->examples) {
                // A merge's example reads the input x0 and the named inputs x1, x2...
                std::string inputs = fmt::format("input({})", dims(ex.in));
                if (!ex.others.empty()) {
                    inputs = fmt::format("input x0({})", dims(ex.in));
                    for (size_t i = 0; i < ex.others.size(); ++i) inputs += fmt::format("\n  input x{}({})", i + 1, dims(ex.others[i]));
                    inputs += "\n  from x0";
                }
                CHECK(k->is_merge() == !ex.others.empty());
                auto c = compile(fmt::format("model t {{\n  {}\n  {}\n}}\n", inputs, ex.code));
                INFO(ex.code);
                require_ok(*c);
                const Model& m = c->program.models.at(0);
                REQUIRE(m.layers.size() == 1);
                CHECK(m.layers[0].type == k->name);
                CHECK(m.layers[0].ins.size() == ex.others.size() + 1);
                CHECK(m.output() == ex.out);
                CHECK(m.param_count() == ex.params);
                CHECK(m.param_count() - m.trainable_count() == ex.non_trainable);
            }
        }
    }
}

TEST_CASE("merges count one operation per output value for each input after the first, Concatenate none", "[layers]") {
    auto c = compile("model t {\n  input a(4, 4, 8)\n  input b(1, 1, 8)\n  input d(4, 4, 1)\n  from a\n  Add(b, d)\n}\n");
    require_ok(*c);
    CHECK(c->program.models.at(0).flop_count() == 2 * 4 * 4 * 8);  // 128 outputs, two extra inputs
    auto cat = compile("model t {\n  input a(4, 8)\n  input b(4, 2)\n  from a\n  Concatenate(b)\n}\n");
    require_ok(*cat);
    CHECK(cat->program.models.at(0).flop_count() == 0);
}

TEST_CASE("merge shape rules follow Keras: broadcasting of size-1 axes, Concatenate's axis", "[layers]") {
    const LayerKind& add = *find_layer("Add");
    const LayerKind& cat = *find_layer("Concatenate");
    BoundArgs none;
    CHECK(add.merge(none, {Shape{8, 1}, Shape{1, 5}}).out == Shape{8, 5});
    CHECK(add.merge(none, {Shape{3}, Shape{2, 3}}).out == Shape{2, 3});  // ranks aligned from the last axis
    CHECK_THAT(add.merge(none, {Shape{4, 4, 8}, Shape{4, 4, 16}}).error, Catch::Contains("axis 3 is 8 in one input and 16 in another"));
    BoundArgs axis;
    axis.set("axis", Value::integer(1), true);
    CHECK(cat.merge(axis, {Shape{2, 3}, Shape{5, 3}}).out == Shape{7, 3});
    CHECK_THAT(cat.merge(axis, {Shape{2, 3}, Shape{5, 4}}).error, Catch::Contains("every axis but axis 1"));
    axis.set("axis", Value::integer(0), true);
    CHECK_THAT(cat.merge(axis, {Shape{2, 3}, Shape{5, 3}}).error, Catch::Contains("axis 0 is the batch"));
    axis.set("axis", Value::integer(-3), true);
    CHECK_FALSE(cat.merge(axis, {Shape{2, 3}, Shape{5, 3}}).error.empty());
    CHECK_THAT(cat.merge(axis, {Shape{2, 3}, Shape{5}}).error, Catch::Contains("same rank"));
}

TEST_CASE("every layer has Keras' snake_case default name", "[layers]") {
    CHECK(snake_case("Conv2D") == "conv2d");
    CHECK(snake_case("MaxPooling2D") == "max_pooling2d");
    CHECK(snake_case("GlobalMaxPooling1D") == "global_max_pooling1d");
    CHECK(snake_case("RandomFlip") == "random_flip");
    CHECK(snake_case("Dense") == "dense");
    CHECK(snake_case("PreprocessInput") == "preprocess_input");
}

TEST_CASE("window arithmetic follows Keras", "[layers]") {
    using layer_util::window_out;
    CHECK(window_out(28, 3, 1, 1, false) == 26);
    CHECK(window_out(13, 2, 2, 1, false) == 6);
    CHECK(window_out(5, 2, 2, 1, false) == 2);  // floor
    CHECK(window_out(5, 3, 2, 1, true) == 3);   // same: ceil(5 / 2)
    CHECK(window_out(2, 3, 1, 1, false) == -1);  // does not fit
    CHECK(window_out(9, 3, 1, 2, false) == 5);   // dilation 2: span 5
}

TEST_CASE("the seed's telemetry and IMDB models have the expected shapes", "[layers][seed]") {
    auto t = compile_repo_file("models/telemetry_conv1d.cnn");
    require_ok(*t);
    const Model& tm = t->program.models.at(0);
    CHECK(tm.layers[0].out == Shape{9, 256});
    CHECK(tm.layers[1].out == Shape{4, 256});
    CHECK(tm.layers[2].out == Shape{4, 128});
    CHECK(tm.layers[3].out == Shape{128});
    CHECK(tm.param_count() == (4 * 256 + 256) + (2 * 256 * 128 + 128) + 129);
    auto i = compile_repo_file("models/imdb_conv1d.cnn");
    require_ok(*i);
    const Model& im = i->program.models.at(0);
    CHECK(im.layers[0].out == Shape{500, 128});
    CHECK(im.layers[0].param_count() == 1280000);
    CHECK(im.output() == Shape{1});
}
