// Normalization layers: BatchNormalization and LayerNormalization, with Keras 3's arguments,
// defaults and variables (keras/src/layers/normalization/batch_normalization.py,
// layer_normalization.py). Shapes exclude the batch axis; `axis` counts it, as in Keras.
#include <fmt/format.h>

#include "layers/Layer.h"

namespace cnnc {

namespace {

// The normalized axis' length: the size of every variable of both layers.
ShapeResult keep_shape_if_axis_fits(const BoundArgs& a, const Shape& in) {
    if (layer_util::axis_index(a.integer("axis"), in.rank()) < 0)
        return ShapeResult::fail(fmt::format("axis = {} is not an axis of {} (axis 0 is the batch; 1 to {} or -{} to -1)",
                                             a.integer("axis"), in, in.rank(), in.rank()));
    return ShapeResult::ok(in);
}

int64_t axis_length(const BoundArgs& a, const Shape& in) {
    return in[static_cast<size_t>(layer_util::axis_index(a.integer("axis"), in.rank()))];
}

// gamma when `scale`, then beta when `center`: the order in which Keras' build() adds them.
std::vector<WeightSpec> scale_and_offset(const BoundArgs& a, int64_t n) {
    std::vector<WeightSpec> w;
    if (a.flag("scale")) w.push_back({"gamma", Shape{n}, a.text("gamma_initializer")});
    if (a.flag("center")) w.push_back({"beta", Shape{n}, a.text("beta_initializer")});
    return w;
}

}  // namespace

const LayerKind& layer_BatchNormalization() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "BatchNormalization";
        k.doc = "normalizes each channel (`axis`) by the batch's mean and variance in training, by the moving averages "
                "of those otherwise (and always when frozen), then scales by gamma and shifts by beta";
        k.params = {optional("axis", ArgType::Int, I(-1)).about("the channel axis (-1: the last)"),
                    optional("momentum", ArgType::Float, F(0.99)).min(0).max(1)
                        .about("moving = moving * momentum + batch * (1 - momentum)"),
                    optional("epsilon", ArgType::Float, F(1e-3)).above(0).about("added to the variance"),
                    optional("center", ArgType::Bool, B(true)).about("add the offset beta"),
                    optional("scale", ArgType::Bool, B(true)).about("multiply by gamma"),
                    optional("beta_initializer", ArgType::Initializer, N("zeros")),
                    optional("gamma_initializer", ArgType::Initializer, N("ones")),
                    optional("moving_mean_initializer", ArgType::Initializer, N("zeros")),
                    optional("moving_variance_initializer", ArgType::Initializer, N("ones")),
                    optional("beta_regularizer", ArgType::Regularizer, none()),
                    optional("gamma_regularizer", ArgType::Regularizer, none())};
        k.infer = keep_shape_if_axis_fits;
        k.weights = [](const BoundArgs& a, const Shape& in) {
            const int64_t n = axis_length(a, in);
            std::vector<WeightSpec> w = scale_and_offset(a, n);
            w.push_back({"moving_mean", Shape{n}, a.text("moving_mean_initializer"), false});
            w.push_back({"moving_variance", Shape{n}, a.text("moving_variance_initializer"), false});
            return w;
        };
        // As inference computes it (and folding removes it): one multiply and one add per value.
        k.flops = [](const BoundArgs&, const Shape& in, const Shape&) { return 2.0 * double(in.elements()); };
        k.examples = {{{8, 8, 16}, "BatchNormalization()", {8, 8, 16}, 64, {}, 32},
                      {{10}, "BatchNormalization(momentum = 0.9, epsilon = 1e-5)", {10}, 40, {}, 20},
                      {{4, 6}, "BatchNormalization(axis = 1, center = false)", {4, 6}, 12, {}, 8},
                      {{3, 3, 5}, "BatchNormalization(scale = false, center = false)", {3, 3, 5}, 10, {}, 10},
                      {{4, 4, 3}, "BatchNormalization(trainable = false)", {4, 4, 3}, 12, {}, 12}};
        return k;
    }();
    return k;
}

const LayerKind& layer_LayerNormalization() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "LayerNormalization";
        k.doc = "normalizes each sample over `axis` by its own mean and variance, then scales by gamma and shifts by beta";
        k.params = {optional("axis", ArgType::Int, I(-1)).about("the normalized axis (-1: the last)"),
                    optional("epsilon", ArgType::Float, F(1e-3)).above(0).about("added to the variance"),
                    optional("center", ArgType::Bool, B(true)).about("add the offset beta"),
                    optional("scale", ArgType::Bool, B(true)).about("multiply by gamma"),
                    optional("beta_initializer", ArgType::Initializer, N("zeros")),
                    optional("gamma_initializer", ArgType::Initializer, N("ones")),
                    optional("beta_regularizer", ArgType::Regularizer, none()),
                    optional("gamma_regularizer", ArgType::Regularizer, none())};
        k.infer = keep_shape_if_axis_fits;
        k.weights = [](const BoundArgs& a, const Shape& in) { return scale_and_offset(a, axis_length(a, in)); };
        // Per value: the mean's add, the centring subtract, the variance's multiply-add, the
        // normalizing multiply; then gamma's multiply and beta's add.
        k.flops = [](const BoundArgs& a, const Shape& in, const Shape&) {
            return double(in.elements()) * (5.0 + (a.flag("scale") ? 1 : 0) + (a.flag("center") ? 1 : 0));
        };
        k.examples = {{{5, 8}, "LayerNormalization()", {5, 8}, 16},
                      {{12}, "LayerNormalization(epsilon = 1e-6, center = false)", {12}, 12},
                      {{3, 4, 6}, "LayerNormalization(axis = 2)", {3, 4, 6}, 8}};
        return k;
    }();
    return k;
}

}  // namespace cnnc
