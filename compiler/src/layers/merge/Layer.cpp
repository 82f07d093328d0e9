// Layers that read several tensors and make one: the elementwise merges (Add, Subtract, Multiply,
// Average, Maximum, Minimum) and Concatenate, with Keras 3's shape rules
// (keras/src/layers/merging/base_merge.py, concatenate.py). Shapes exclude the batch axis.
#include <fmt/format.h>

#include "layers/Layer.h"

namespace cnnc {

namespace {

// Keras' _compute_elemwise_op_output_shape, folded over the inputs: shapes are aligned from their
// last axis (a shorter one gains leading axes), and on each axis the sizes agree or one of them
// is 1, which broadcasts.
ShapeResult elementwise_shape(const BoundArgs&, const std::vector<Shape>& ins) {
    std::vector<int64_t> out = ins.front().dims;
    for (size_t k = 1; k < ins.size(); ++k) {
        std::vector<int64_t> a = out, b = ins[k].dims;
        if (a.size() < b.size()) std::swap(a, b);
        size_t lead = a.size() - b.size();
        for (size_t i = 0; i < b.size(); ++i) {
            int64_t x = a[lead + i], y = b[i];
            if (x != y && x != 1 && y != 1)
                return ShapeResult::fail(fmt::format("axis {} is {} in one input and {} in another", i + 1 + lead, x, y));
            a[lead + i] = x == 1 ? y : x;
        }
        out = a;
    }
    return ShapeResult::ok(Shape(out));
}

LayerKind elementwise(std::string name, std::string doc, int max_inputs, std::vector<LayerExample> examples) {
    LayerKind k;
    k.name = std::move(name);
    k.doc = std::move(doc);
    k.merge = elementwise_shape;
    k.min_inputs = 2;
    k.max_inputs = max_inputs;
    // One operation per output value for each input after the first.
    k.merge_flops = [](const BoundArgs&, const std::vector<Shape>& ins, const Shape& out) {
        return double(out.elements()) * double(ins.size() - 1);
    };
    k.examples = std::move(examples);
    return k;
}

ShapeResult concatenate_shape(const BoundArgs& a, const std::vector<Shape>& ins) {
    size_t rank = ins.front().rank();
    for (const Shape& s : ins)
        if (s.rank() != rank)
            return ShapeResult::fail("Concatenate needs inputs of the same rank");
    int axis = layer_util::axis_index(a.integer("axis"), rank);
    if (axis < 0)
        return ShapeResult::fail(fmt::format("axis = {} is not an axis of {} (axis 0 is the batch; 1 to {} or -{} to -1)",
                                             a.integer("axis"), ins.front(), rank, rank));
    std::vector<int64_t> out = ins.front().dims;
    out[static_cast<size_t>(axis)] = 0;
    for (const Shape& s : ins) {
        for (size_t i = 0; i < rank; ++i)
            if (static_cast<int>(i) != axis && s[i] != out[i])
                return ShapeResult::fail(fmt::format("Concatenate needs inputs that match on every axis but axis {}", a.integer("axis")));
        out[static_cast<size_t>(axis)] += s[static_cast<size_t>(axis)];
    }
    return ShapeResult::ok(Shape(out));
}

}  // namespace

const LayerKind& layer_Add() {
    static const LayerKind k = elementwise("Add", "the sum of its inputs (shapes broadcast where an axis is 1)", 0,
                                           {{{4, 4, 8}, "Add(x1)", {4, 4, 8}, 0, {{4, 4, 8}}},
                                            {{4, 4, 8}, "Add(x1, x2)", {4, 4, 8}, 0, {{1, 1, 8}, {4, 4, 1}}}});
    return k;
}

const LayerKind& layer_Subtract() {
    static const LayerKind k = elementwise("Subtract", "its first input minus its second", 2,
                                           {{{10}, "Subtract(x1)", {10}, 0, {{10}}}, {{3, 1}, "Subtract(x1)", {3, 5}, 0, {{5}}}});
    return k;
}

const LayerKind& layer_Multiply() {
    static const LayerKind k = elementwise("Multiply", "the elementwise product of its inputs", 0,
                                           {{{8, 8, 16}, "Multiply(x1)", {8, 8, 16}, 0, {{1, 1, 16}}}});
    return k;
}

const LayerKind& layer_Average() {
    static const LayerKind k = elementwise("Average", "the elementwise mean of its inputs", 0,
                                           {{{32}, "Average(x1, x2)", {32}, 0, {{32}, {32}}}});
    return k;
}

const LayerKind& layer_Maximum() {
    static const LayerKind k = elementwise("Maximum", "the elementwise maximum of its inputs", 0,
                                           {{{5, 6}, "Maximum(x1)", {5, 6}, 0, {{5, 6}}}});
    return k;
}

const LayerKind& layer_Minimum() {
    static const LayerKind k = elementwise("Minimum", "the elementwise minimum of its inputs", 0,
                                           {{{5, 6}, "Minimum(x1)", {5, 6}, 0, {{5, 1}}}});
    return k;
}

const LayerKind& layer_Concatenate() {
    static const LayerKind k = [] {
        LayerKind k;
        k.name = "Concatenate";
        k.doc = "joins its inputs along `axis` (Keras counts the batch as axis 0; -1 is the last); the other axes must match";
        k.params = {optional("axis", ArgType::Int, I(-1))};
        k.merge = concatenate_shape;
        k.min_inputs = 2;
        k.max_inputs = 0;
        k.merge_flops = [](const BoundArgs&, const std::vector<Shape>&, const Shape&) { return 0.0; };  // a copy
        k.examples = {{{16, 16, 32}, "Concatenate(x1)", {16, 16, 96}, 0, {{16, 16, 64}}},
                      {{16, 16, 32}, "Concatenate(x1, x2, axis = -1)", {16, 16, 56}, 0, {{16, 16, 8}, {16, 16, 16}}},
                      {{4, 6}, "Concatenate(x1, axis = 1)", {7, 6}, 0, {{3, 6}}},
                      {{4, 6}, "Concatenate(x1, axis = -2)", {9, 6}, 0, {{5, 6}}}};
        return k;
    }();
    return k;
}

}  // namespace cnnc
