// Conformance over the layer list: every registered layer has a documented schema and worked
// examples whose shapes and parameter counts (computed by hand) the checker reproduces. Adding a
// layer to layers/LayerList.def without examples fails here.
#include <fmt/format.h>

#include "Helpers.h"

using namespace cnnc;
using namespace cnnc::test;

TEST_CASE("every layer's worked examples check out", "[layers]") {
    REQUIRE(all_layers().size() >= 21);
    for (const LayerKind* k : all_layers()) {
        if (k->is_merge()) continue;  // until the graph syntax lands (h/syntax)
        DYNAMIC_SECTION(k->name) {
            CHECK_FALSE(k->doc.empty());
            REQUIRE(k->infer);
            REQUIRE_FALSE(k->examples.empty());
            for (const auto& ex : k->examples) {
                std::string dims;
                for (size_t i = 0; i < ex.in.rank(); ++i) dims += (i ? ", " : "") + std::to_string(ex.in[i]);
                auto c = compile(fmt::format("model t {{\n  input({})\n  {}\n}}\n", dims, ex.code));
                INFO(ex.code);
                require_ok(*c);
                const Model& m = c->program.models.at(0);
                REQUIRE(m.layers.size() == 1);
                CHECK(m.layers[0].type == k->name);
                CHECK(m.output() == ex.out);
                CHECK(m.param_count() == ex.params);
            }
        }
    }
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
