#include "engine/LoadWeights.h"

#include "Error.h"

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

// Weights from a Keras-layout file into the layers under `layers` (a whole model, or a block with
// `weights = ...`). A layer's arrays are found under its own name (the published application
// files, and cnnc's files for top-level layers) or, for a layer inside a block, under the
// top-level layer's group as "<layer>/kernel:0" (a nested Keras model).
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
