// Random image augmentation (RandomFlip, RandomRotation, RandomZoom): a fresh random transform per
// image in training, identity in evaluation and prediction (Keras semantics).
#include <fmt/format.h>

#include "layers/Layer.h"

namespace cnnc {

static ShapeResult image_only(const std::string& name, const Shape& in) {
    if (in.rank() != 3) return ShapeResult::fail(fmt::format("{} expects images (height, width, channels), got {}", name, in));
    return ShapeResult::ok(in);
}

// A factor is a number f (meaning [-f, f]) or a pair (lo, hi) with lo <= hi.
static std::string check_factor(const Value& v, const char* arg, double limit) {
    if (v.kind == Value::Kind::None) return "";
    if (v.is_number()) {
        double f = v.as_double();
        if (f < 0 || f > limit) return fmt::format("{} must be in [0, {:g}], got {}", arg, limit, v);
        return "";
    }
    if ((v.kind == Value::Kind::Tuple || v.kind == Value::Kind::List) && v.items.size() == 2 && v.items[0].is_number() &&
        v.items[1].is_number()) {
        double lo = v.items[0].as_double(), hi = v.items[1].as_double();
        if (lo > hi) return fmt::format("{} = {} has its lower bound above its upper bound", arg, v);
        if (lo < -limit || hi > limit) return fmt::format("{} bounds must be within [-{:g}, {:g}], got {}", arg, limit, limit, v);
        return "";
    }
    return fmt::format("{} must be a number or a pair (lower, upper), got {}", arg, v);
}

static std::vector<ParamSpec> fill_params() {
    return {optional("fill_mode", ArgType::Name, N("reflect")).one_of({"reflect", "wrap", "constant", "nearest"}),
            optional("interpolation", ArgType::Name, N("bilinear")).one_of({"bilinear", "nearest"}),
            optional("seed", ArgType::Int, none()), optional("fill_value", ArgType::Float, F(0.0))};
}

const LayerKind& layer_RandomFlip() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "RandomFlip";
        k.doc = "flips each image left-right and/or top-bottom with probability 1/2";
        k.params = {optional("mode", ArgType::Name, N("horizontal_and_vertical")).one_of({"horizontal", "vertical", "horizontal_and_vertical"}),
                    optional("seed", ArgType::Int, none())};
        k.augmentation = true;
        k.infer = [](const BoundArgs&, const Shape& in) { return image_only("RandomFlip", in); };
        k.examples = {{{32, 32, 3}, "RandomFlip(horizontal)", {32, 32, 3}, 0}};
        return k;
    }();
    return k;
}

const LayerKind& layer_RandomRotation() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "RandomRotation";
        k.doc = "rotates each image by a random angle; factor is a fraction of a full turn (0.1 → ±36°)";
        k.params = {required("factor", ArgType::Any)};
        for (auto& p : fill_params()) k.params.push_back(p);
        k.augmentation = true;
        k.validate = [](const BoundArgs& a) { return check_factor(a.get("factor"), "factor", 1.0); };
        k.infer = [](const BoundArgs&, const Shape& in) { return image_only("RandomRotation", in); };
        k.examples = {{{32, 32, 3}, "RandomRotation(0.1)", {32, 32, 3}, 0}, {{8, 8, 1}, "RandomRotation((-0.25, 0.25), fill_mode = constant)", {8, 8, 1}, 0}};
        return k;
    }();
    return k;
}

const LayerKind& layer_RandomZoom() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "RandomZoom";
        k.doc = "zooms each image in or out by a random factor (0.2 → between -20% and +20%)";
        k.params = {required("height_factor", ArgType::Any), optional("width_factor", ArgType::Any, none())};
        for (auto& p : fill_params()) k.params.push_back(p);
        k.augmentation = true;
        k.validate = [](const BoundArgs& a) {
            std::string e = check_factor(a.get("height_factor"), "height_factor", 1.0);
            return e.empty() ? check_factor(a.get("width_factor"), "width_factor", 1.0) : e;
        };
        k.infer = [](const BoundArgs&, const Shape& in) { return image_only("RandomZoom", in); };
        k.examples = {{{32, 32, 3}, "RandomZoom(0.2)", {32, 32, 3}, 0}, {{8, 8, 1}, "RandomZoom((-0.3, 0.1), width_factor = 0.2)", {8, 8, 1}, 0}};
        return k;
    }();
    return k;
}

}  // namespace cnnc
