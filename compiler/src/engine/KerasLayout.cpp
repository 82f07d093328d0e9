#include "engine/KerasLayout.h"

#include <algorithm>
#include <functional>
#include <set>

#include "layers/Layer.h"

namespace cnnc::engine {

namespace {

// One Keras container (a model's `layers` list): its path and its per-class counters. The names
// are keras/src/saving/saving_lib.py's `_save_container_state`: snake_case of the class, made
// unique with `_1`, `_2`... within the list (`_get_unique_name`).
struct Container {
    std::string path;  // "" for the model, "layers/functional/" inside a base
    std::map<std::string, int> used;
    std::string child(const std::string& cls) {
        auto [it, fresh] = used.emplace(cls, 0);
        if (!fresh) ++it->second;
        return path + "layers/" + (it->second ? cls + "_" + std::to_string(it->second) : cls);
    }
};

// A block that is a Python helper function in Keras: its layers join the enclosing model.
bool inlined(const LayerNode& l) { return l.is_group() && l.weights_file.empty() && !l.augmentation_group; }

// The names Keras gives the model's own layers (those of its `layers`, blocks' included). A layer
// named in the `.cnn` keeps its name; any other is named as keras/src/utils/naming.py's
// auto_name does when the seed's code creates it: the class in snake case, numbered in creation
// order (the written order) across the whole model ("conv2d", "conv2d_1", ...), skipping names
// taken. cnnc numbers a block's layers within the block, so two blocks' layers may share a name;
// Keras' never do (a Functional refuses two layers of one name: keras/src/ops/function.py map_graph).
using Names = std::map<const LayerNode*, std::string>;

bool auto_named(const LayerNode& l) { return !l.is_group() && (!l.args.has("name") || l.args.is_none("name")); }

void given_names(const std::vector<LayerNode>& layers, std::set<std::string>& taken) {
    for (const LayerNode& l : layers) {
        if (inlined(l)) given_names(l.children, taken);
        else if (!auto_named(l)) taken.insert(l.name);
    }
}

void auto_names(const std::vector<LayerNode>& layers, std::set<std::string>& taken, std::map<std::string, int>& counters, Names& out) {
    for (const LayerNode& l : layers) {
        if (inlined(l)) {
            auto_names(l.children, taken, counters, out);
            continue;
        }
        std::string name = l.name;
        if (auto_named(l))
            for (const std::string base = snake_case(l.kind->name);;) {
                const int n = counters[base]++;
                name = n == 0 ? base : base + "_" + std::to_string(n);
                if (!taken.count(name)) break;
            }
        taken.insert(name);
        out[&l] = name;
    }
}

Names keras_names(const Model& m) {
    std::set<std::string> taken;
    std::map<std::string, int> counters;
    Names out;
    given_names(m.layers, taken);
    auto_names(m.layers, taken, counters, out);
    return out;
}

void add_layer(const LayerNode& l, Container& c, KerasLayout& out, const Names* names);

void add(const std::vector<LayerNode>& layers, Container& c, KerasLayout& out, const Names* names) {
    for (const LayerNode& l : layers) add_layer(l, c, out, names);
}

// A layer of a container, or a block: a helper function's layers join the container. `names`:
// the model's own layers' Keras names (null inside a nested model, whose layers keep theirs).
void add_layer(const LayerNode& l, Container& c, KerasLayout& out, const Names* names) {
    if (inlined(l)) {
        add(l.children, c, out, names);
        return;
    }
    const std::string name = names ? names->at(&l) : l.name;
    if (l.is_group()) {
        const bool base = !l.weights_file.empty();
        const std::string at = c.child(base ? "functional" : "sequential");
        out.groups.push_back({at, name});
        Container inner{at + "/", {}};
        if (base) out.groups.push_back({inner.child("input_layer"), "input_layer"});
        add(l.children, inner, out, nullptr);
        return;
    }
    if (l.kind->name == "PreprocessInput") return;  // keras.applications.*.preprocess_input: ops, no layer
    const std::string at = c.child(snake_case(l.kind->name));
    out.groups.push_back({at, name});
    out.group_of[&l] = at;
}

// One operation of a Functional's graph: an input (its InputLayer), a leaf layer, or a nested
// model (a pretrained base, an augmentation), which Keras calls as one layer.
struct Operation {
    const LayerNode* layer = nullptr;  // null: input `input`
    int input = -1;
    std::vector<TensorId> reads;  // the tensors it reads from outside itself, in order
    int index = -1;               // when the walk from the outputs first met it (-1: never)
    int depth = 0;                // the longest path from it to an output
    bool finished = false;
};

// The model's operations: inputs, then every leaf or nested model; `made[t]` is the one making tensor t.
void operations(const std::vector<LayerNode>& layers, std::vector<Operation>& ops, std::map<TensorId, size_t>& made) {
    for (const LayerNode& l : layers) {
        if (inlined(l)) {
            operations(l.children, ops, made);
            continue;
        }
        Operation op;
        op.layer = &l;
        std::vector<const LayerNode*> leaves;
        std::vector<const LayerNode*> stack{&l};
        while (!stack.empty()) {  // the leaves under l, in order
            const LayerNode* n = stack.back();
            stack.pop_back();
            if (!n->is_group()) leaves.push_back(n);
            for (auto it = n->children.rbegin(); it != n->children.rend(); ++it) stack.push_back(&*it);
        }
        for (const LayerNode* leaf : leaves) made[leaf->id] = ops.size();
        for (const LayerNode* leaf : leaves)
            for (TensorId t : leaf->inputs)
                if (std::none_of(leaves.begin(), leaves.end(), [&](const LayerNode* x) { return x->id == t; })) op.reads.push_back(t);
        ops.push_back(std::move(op));
    }
}

// Functional.layers' order (keras/src/models/functional.py `layers`: its `_operations` that are
// Layers), which keras/src/ops/function.py's map_graph makes: a depth-first walk from each output
// in turn gives each operation the index it is first met at, visiting a node's inputs in order
// (_build_map_helper); an operation's depth is the longest path from it to an output (map_graph's
// reversed walk); operations come deepest first, ties by index. An input no output reads has
// depth 0 and index -1.
std::vector<const Operation*> functional_order(const Model& m, std::vector<Operation>& ops) {
    std::map<TensorId, size_t> made;
    for (size_t k = 0; k < m.inputs.size(); ++k) {
        made[input_tensor(static_cast<int>(k))] = ops.size();
        ops.push_back({nullptr, static_cast<int>(k), {}});
    }
    operations(m.layers, ops, made);
    std::vector<size_t> post;  // Keras' nodes_in_decreasing_depth
    int next = 0;
    std::function<void(TensorId)> walk = [&](TensorId t) {
        Operation& op = ops[made.at(t)];
        if (op.finished) return;
        if (op.index < 0) op.index = next++;
        for (TensorId r : op.reads) walk(r);
        op.finished = true;
        post.push_back(made.at(t));
    };
    std::vector<TensorId> outs = m.outputs;
    if (outs.empty() && !m.leaves().empty()) outs.push_back(m.leaves().back()->id);
    for (TensorId t : outs) walk(t);
    for (auto it = post.rbegin(); it != post.rend(); ++it)
        for (TensorId r : ops[*it].reads) ops[made.at(r)].depth = std::max(ops[made.at(r)].depth, ops[*it].depth + 1);
    std::vector<const Operation*> order;
    for (const Operation& op : ops) order.push_back(&op);
    std::stable_sort(order.begin(), order.end(),
                     [](const Operation* a, const Operation* b) { return a->depth != b->depth ? a->depth > b->depth : a->index < b->index; });
    return order;
}

}  // namespace

KerasLayout keras_layout(const Model& m) {
    KerasLayout out;
    out.groups.push_back({"", m.name});
    Container root;
    const Names names = keras_names(m);
    if (m.is_sequential()) {  // Sequential.layers: the layers as written, no InputLayer
        add(m.layers, root, out, &names);
        return out;
    }
    std::vector<Operation> ops;
    for (const Operation* op : functional_order(m, ops)) {
        if (op->layer) add_layer(*op->layer, root, out, &names);
        else out.groups.push_back({root.child("input_layer"), m.inputs[static_cast<size_t>(op->input)].name});
    }
    return out;
}

}  // namespace cnnc::engine
