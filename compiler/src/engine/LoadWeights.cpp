#include "engine/LoadWeights.h"

#include <fmt/core.h>

#include <cstdio>

#include "Error.h"
#include "train/KerasOptimizer.h"
#include "train/Optimizer.h"

namespace cnnc::engine {

// A variable's path inside the innermost pretrained base that holds it ("layers/functional/layers/
// conv2d/vars/0" -> "layers/conv2d/vars/0"): where the base's own `save_weights` (keras.applications'
// model saved alone, the root there) keeps it.
static std::string within_base(const std::string& path) {
    static const std::string base = "layers/functional";
    for (size_t at = path.rfind(base); at != std::string::npos; at = at ? path.rfind(base, at - 1) : std::string::npos) {
        if (at != 0 && path[at - 1] != '/') continue;
        const size_t end = path.find('/', at + base.size());
        if (end != std::string::npos) return path.substr(end + 1);
    }
    return path;
}

// The Keras name of the model's own layer holding `params` (not a nested model's: its Keras 3 path
// is "layers/<x>/vars/<i>"), which is its layer's name in Keras 2's layout: unique in the model,
// where cnnc's names repeat across blocks (engine/KerasLayout.h). Null for any other.
static const std::string* keras2_name(const rt::Network& net, const std::vector<rt::Param*>& params) {
    if (params.empty()) return nullptr;
    const std::string& path = params.front()->keras3_path;
    const size_t vars = path.rfind("/vars/");
    if (path.rfind("layers/", 0) != 0 || vars == std::string::npos || path.find('/', 7) != vars) return nullptr;
    for (const rt::KerasGroup& g : net.keras_groups)
        if (path.compare(0, vars, g.path) == 0 && g.path.size() == vars) return &g.name;
    return nullptr;
}

// Weights from a Keras-layout file into the layers under `layers` (a whole model, or a block with
// `weights = ...`). A layer's arrays are found under its own name (the published application
// files) or its Keras name (a whole model's file: Keras' and cnnc's), or, for a layer inside a
// nested Keras model (a base), under the top-level layer's group as "<layer>/kernel:0". Keras'
// legacy loader by name (legacy_h5_format.py load_weights_from_hdf5_group_by_name) gives a file's
// layer to every model layer of its name; the model's own layers' names are unique, so each gets
// its own, and a name `layer_names` lists twice is one group, loaded once.
void load_weights_into(const std::vector<LayerNode>& layers, const std::string& prefix, const std::string& top, rt::Network& net,
                       const rt::WeightsFile& f, const std::string& file) {
    for (const LayerNode& l : layers) {
        std::string path = prefix.empty() ? l.name : prefix + "/" + l.name;
        std::string group = top.empty() ? l.name : top;
        if (l.is_group()) {
            load_weights_into(l.children, path, group, net, f, file);
            continue;
        }
        if (l.weights.empty()) continue;
        std::vector<rt::Param*> mine;
        for (rt::Param* p : net.params())
            if (p->name.rfind(path + "/", 0) == 0 && p->name.find('/', path.size() + 1) == std::string::npos) mine.push_back(p);
        if (f.keras3) {  // each param at its Keras 3 path: in the whole model, or in the base saved alone
            for (rt::Param* p : mine) {
                auto it = f.by_path.find(p->keras3_path);
                if (it == f.by_path.end() && !top.empty()) it = f.by_path.find(within_base(p->keras3_path));
                if (it == f.by_path.end()) throw rt::UserError(file + ": no weight at '" + p->keras3_path + "' (for " + p->name + ")");
                if (it->second.shape() != p->value.shape())
                    throw rt::UserError(file + ": weight '" + p->keras3_path + "' has shape " + rt::dims_str(it->second.shape()) +
                                        " in the file, but " + p->name + " is " + rt::dims_str(p->value.shape()));
                it->second.read_into(p->value, p->name);
            }
            continue;
        }
        if (const std::string* own = keras2_name(net, mine); own && f.layers.count(*own)) {
            rt::assign_layer(file, f, *own, mine);
            continue;
        }
        if (f.layers.count(l.name)) {
            rt::assign_layer(file, f, l.name, mine);
            continue;
        }
        auto it = f.layers.find(group);
        if (it == f.layers.end()) throw rt::UserError(file + ": no weights for layer '" + l.name + "'");
        rt::WeightsFile sub;
        rt::LayerArrays& la = sub.layers[l.name];
        for (size_t i = 0; i < it->second.names.size(); ++i)
            if (it->second.names[i].rfind(l.name + "/", 0) == 0) la.names.push_back(it->second.names[i]), la.arrays.push_back(it->second.arrays[i]);
        rt::assign_layer(file, sub, l.name, mine);
    }
}

void load_training_weights(const Model& m, rt::Network& net, rt::Optimizer& opt, const std::string& file) {
    const rt::WeightsFile f = rt::read_weights(file);
    load_weights_into(m.layers, "", "", net, f, file);
    const rt::OptimizerLoad o = rt::load_keras_optimizer(f, file, opt, net.params());
    if (o.loaded)
        fmt::print("Optimizer state: {} at iteration {}, learning rate {} (from {})\n", opt.name(), opt.iterations, opt.learning_rate, file);
    std::fflush(stdout);
    if (!o.warning.empty()) fmt::print(stderr, "warning: {}\n", o.warning);
}

// Blocks declared with `weights = "file.h5"` (pretrained bases) get their weights after the
// network is built and initialized.
void load_block_weights(const std::vector<LayerNode>& layers, const std::string& prefix, rt::Network& net, const std::string& model_file,
                        const std::function<std::string(const std::string&)>& resolve) {
    for (const LayerNode& l : layers) {
        std::string path = prefix.empty() ? l.name : prefix + "/" + l.name;
        if (!l.is_group()) continue;
        if (!l.weights_file.empty()) {
            std::string file = resolve(l.weights_file);
            load_weights_into(l.children, path, l.name, net, rt::read_weights(file), file);
        } else {
            load_block_weights(l.children, path, net, model_file, resolve);
        }
    }
}

}  // namespace cnnc::engine
