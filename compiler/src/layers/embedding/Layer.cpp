// Embedding: integer token ids to learned vectors, (steps,) → (steps, output_dim).
#include <fmt/format.h>

#include "layers/Layer.h"

namespace cnnc {

const LayerKind& layer_Embedding() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "Embedding";
        k.doc = "looks up a learned `output_dim` vector for each token id below `input_dim`";
        k.params = {
            required("input_dim", ArgType::Int).min(1).about("vocabulary size"),
            required("output_dim", ArgType::Int).min(1),
            optional("embeddings_initializer", ArgType::Initializer, N("random_uniform")),
            optional("embeddings_regularizer", ArgType::Regularizer, none()),
            optional("mask_zero", ArgType::Bool, B(false)),
            optional("input_length", ArgType::Int, none()).min(1).about("Keras 2; checked against the input"),
        };
        k.infer = [](const BoundArgs& a, const Shape& in) {
            if (in.rank() != 1) return ShapeResult::fail(fmt::format("expects a 1-D input of token ids (steps,), got {}", in));
            if (!a.is_none("input_length") && a.integer("input_length") != in[0])
                return ShapeResult::fail(fmt::format("input_length = {} but the input has {} steps", a.integer("input_length"), in[0]));
            return ShapeResult::ok(Shape{in[0], a.integer("output_dim")});
        };
        // Keras propagates the mask to the layers after (GlobalAveragePooling1D averages unmasked
        // steps only); cnnc has no masks, so accepting the argument would change the numbers silently.
        k.validate = [](const BoundArgs& a) {
            return a.flag("mask_zero") ? std::string("mask_zero = true is not supported: cnnc does not propagate masks to the "
                                                     "layers after it; remove it (token 0 is then an ordinary id)")
                                       : std::string();
        };
        k.weights = [](const BoundArgs& a, const Shape&) {
            return std::vector<WeightSpec>{
                {"embeddings", Shape{a.integer("input_dim"), a.integer("output_dim")}, a.text("embeddings_initializer")}};
        };
        k.examples = {{{500}, "Embedding(10000, 128)", {500, 128}, 1280000},
                      {{20}, "Embedding(50, 8, input_length = 20)", {20, 8}, 400}};
        return k;
    }();
    return k;
}

}  // namespace cnnc
