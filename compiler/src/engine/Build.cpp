#include "engine/Build.h"

#include <stdexcept>

#include "Error.h"
#include "builtins/Builtins.h"
#include "engine/KerasLayout.h"
#include "lower/Fold.h"
#include "lower/Lowering.h"
#include "train/Random.h"

namespace cnnc::engine {

// The network's tensor for a model's: an input, or the stage that makes a leaf's output (its
// activation stage when it has one).
static int stage_tensor(TensorId t, const std::vector<int>& stage_of) {
    return is_input(t) ? rt::Network::input(input_index(t)) : stage_of.at(static_cast<size_t>(t));
}

// Leaves in id order (the order written, topological), each reading the stages of its inputs.
static void add_layers(const std::vector<LayerNode>& layers, const std::string& prefix, const KerasLayout& keras, KernelCache& cache,
                       rt::Network& net, std::vector<int>& stage_of) {
    for (const LayerNode& l : layers) {
        std::string path = prefix.empty() ? l.name : prefix + "/" + l.name;
        if (l.is_group()) {
            add_layers(l.children, path, keras, cache, net, stage_of);
            continue;
        }
        LowerContext ctx{l, cache, path};
        auto op = lowering_for(*l.kind)(ctx);
        auto group = keras.group_of.find(&l);
        if (!op->params.empty() && group == keras.group_of.end())
            throw std::logic_error("internal: layer " + path + " has weights but no Keras group");
        for (size_t i = 0; i < op->params.size(); ++i) op->params[i].keras3_path = group->second + "/vars/" + std::to_string(i);
        std::vector<int> inputs;
        for (TensorId t : l.inputs) inputs.push_back(stage_tensor(t, stage_of));
        int stage = net.add(path, std::move(op), l.out.dims, std::move(inputs));
        if (auto act = activation_stage(ctx)) stage = net.add(path + "/" + layer_activation(l), std::move(act), l.out.dims, {stage});
        if (stage_of.size() != static_cast<size_t>(l.id)) throw std::logic_error("internal: layer " + path + " out of id order");
        stage_of.push_back(stage);
    }
}

// Inference folding (lower/Fold.h): a layer that reads one tensor, made by a layer with no
// activation that nothing else reads (not even as a model output), is offered to that layer;
// fold_into takes a BatchNormalization into a Conv or Dense and declines the rest.
static void fold_pairs(const Model& m, const rt::Network& net, const std::vector<int>& stage_of, KernelCache& cache) {
    const std::vector<const LayerNode*> leaves = m.leaves();
    std::vector<int> readers(leaves.size(), 0);
    for (const LayerNode* l : leaves)
        for (TensorId t : l->inputs)
            if (!is_input(t)) ++readers[static_cast<size_t>(t)];
    for (TensorId t : m.outputs.empty() ? std::vector<TensorId>{static_cast<TensorId>(leaves.size()) - 1} : m.outputs)
        if (!is_input(t)) ++readers[static_cast<size_t>(t)];
    for (const LayerNode* l : leaves) {
        if (l->inputs.size() != 1 || is_input(l->inputs[0])) continue;
        const size_t t = static_cast<size_t>(l->inputs[0]);
        if (readers[t] != 1 || layer_activation(*leaves[t]) != "linear") continue;
        fold_into(*net.stages().at(static_cast<size_t>(stage_of.at(static_cast<size_t>(l->id)))).op,
                  *net.stages().at(static_cast<size_t>(stage_of.at(t))).op, cache);
    }
}

std::unique_ptr<rt::Network> build_network(const Model& m, KernelCache& cache, uint64_t seed) {
    if (!m.shaped) throw rt::UserError("model '" + m.name + "' has shape errors");
    auto net = std::make_unique<rt::Network>(m.input.dims);
    for (size_t k = 1; k < m.inputs.size(); ++k) net->add_input(m.inputs[k].shape.dims);
    std::vector<int> stage_of;
    KerasLayout keras = keras_layout(m);
    add_layers(m.layers, "", keras, cache, *net, stage_of);
    net->keras_groups = std::move(keras.groups);
    fold_pairs(m, *net, stage_of, cache);
    std::vector<int> outputs;
    for (TensorId t : m.outputs) outputs.push_back(stage_tensor(t, stage_of));
    if (!outputs.empty()) net->set_outputs(std::move(outputs));
    // Each weight gets its own stream, so adding a layer does not change the others' values.
    uint64_t k = 0;
    for (rt::Param* p : net->params()) {
        rt::Rng rng(rt::derive_seed(seed, 1000 + k++));
        const InitializerKind* init = find_builtin(initializers(), p->initializer);
        if (!init) throw std::logic_error("internal: weight " + p->name + " has an unchecked initializer '" + p->initializer + "'");
        init->draw(p->value, rng);
    }
    return net;
}

}  // namespace cnnc::engine
