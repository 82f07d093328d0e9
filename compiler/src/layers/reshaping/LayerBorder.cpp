// ZeroPadding2D and Cropping2D: zeros added around each image, or rows and columns cut from its
// edges (Keras semantics, channels last). Neither has weights; each one's gradient is the other.
#include <fmt/format.h>

#include "layers/Layer.h"
#include "layers/reshaping/LayerBorder.h"

namespace cnnc {

namespace {

bool is_pair(const Value& v) { return (v.kind == Value::Kind::Tuple || v.kind == Value::Kind::List) && v.items.size() == 2; }

// One axis: an int (both sides) or a pair (before, after), as Keras' standardize_tuple reads it.
bool axis_sides(const Value& v, int64_t& before, int64_t& after) {
    if (v.kind == Value::Kind::Int) {
        before = after = v.i;
        return true;
    }
    if (!is_pair(v) || v.items[0].kind != Value::Kind::Int || v.items[1].kind != Value::Kind::Int) return false;
    before = v.items[0].i, after = v.items[1].i;
    return true;
}

bool read_border(const Value& v, Border& b) {
    if (v.kind == Value::Kind::Int) {
        b = {v.i, v.i, v.i, v.i};
        return true;
    }
    return is_pair(v) && axis_sides(v.items[0], b.top, b.bottom) && axis_sides(v.items[1], b.left, b.right);
}

LayerKind border_layer(const char* name, const char* arg, Value def, bool crop) {
    LayerKind k;
    k.name = name;
    k.doc = crop ? "cuts rows and columns from the edges of each image: `cropping` = n, (height, width) or "
                   "((top, bottom), (left, right))"
                 : "adds rows and columns of zeros around each image: `padding` = n, (height, width) or "
                   "((top, bottom), (left, right))";
    k.params = {optional(arg, ArgType::Any, std::move(def)),
                optional("data_format", ArgType::Name, N("channels_last")).one_of({"channels_last"})};
    k.validate = [arg](const BoundArgs& a) { return check_border(a.get(arg), arg); };
    k.infer = [arg, crop](const BoundArgs& a, const Shape& in) {
        if (in.rank() != 3) return ShapeResult::fail(fmt::format("expects images (height, width, channels), got {}", in));
        Border b = border(a.get(arg));
        int64_t sign = crop ? -1 : 1;
        Shape out{in[0] + sign * (b.top + b.bottom), in[1] + sign * (b.left + b.right), in[2]};
        if (out[0] < 1 || out[1] < 1)
            return ShapeResult::fail(fmt::format("{} = {} leaves nothing of the {}x{} input", arg, a.get(arg), in[0], in[1]));
        return ShapeResult::ok(out);
    };
    return k;
}

Value pair(Value a, Value b) { return Value::tuple({std::move(a), std::move(b)}); }

}  // namespace

std::string check_border(const Value& v, const char* arg) {
    Border b;
    if (!read_border(v, b))
        return fmt::format("{} must be an int, a pair (height, width) or a pair of pairs ((top, bottom), (left, right)), got {}",
                           arg, v);
    if (b.top < 0 || b.bottom < 0 || b.left < 0 || b.right < 0)
        return fmt::format("{} must not be negative, got {}", arg, v);
    return "";
}

Border border(const Value& v) {
    Border b;
    read_border(v, b);
    return b;
}

const LayerKind& layer_ZeroPadding2D() {
    static const LayerKind k = [] {
        LayerKind k = border_layer("ZeroPadding2D", "padding", pair(I(1), I(1)), false);
        k.examples = {{{28, 28, 1}, "ZeroPadding2D()", {30, 30, 1}, 0},
                      {{3, 4, 2}, "ZeroPadding2D(((1, 2), (0, 3)))", {6, 7, 2}, 0},
                      {{5, 5, 3}, "ZeroPadding2D((2, (1, 0)))", {9, 6, 3}, 0}};
        return k;
    }();
    return k;
}

const LayerKind& layer_Cropping2D() {
    static const LayerKind k = [] {
        LayerKind k = border_layer("Cropping2D", "cropping", pair(pair(I(0), I(0)), pair(I(0), I(0))), true);
        k.examples = {{{28, 28, 1}, "Cropping2D(2)", {24, 24, 1}, 0},
                      {{6, 7, 2}, "Cropping2D(((1, 2), (0, 3)))", {3, 4, 2}, 0},
                      {{5, 5, 3}, "Cropping2D()", {5, 5, 3}, 0}};
        return k;
    }();
    return k;
}

}  // namespace cnnc
