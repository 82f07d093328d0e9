#include "engine/KerasLayout.h"

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

void add(const std::vector<LayerNode>& layers, Container& c, KerasLayout& out) {
    for (const LayerNode& l : layers) {
        if (l.is_group()) {
            if (l.weights_file.empty() && !l.augmentation_group) {  // a helper function: inlined
                add(l.children, c, out);
                continue;
            }
            const bool base = !l.weights_file.empty();
            const std::string at = c.child(base ? "functional" : "sequential");
            out.groups.push_back({at, l.name});
            Container inner{at + "/", {}};
            if (base) out.groups.push_back({inner.child("input_layer"), "input_layer"});
            add(l.children, inner, out);
            continue;
        }
        if (l.kind->name == "PreprocessInput") continue;  // keras.applications.*.preprocess_input: ops, no layer
        const std::string at = c.child(snake_case(l.kind->name));
        out.groups.push_back({at, l.name});
        out.group_of[&l] = at;
    }
}

}  // namespace

KerasLayout keras_layout(const Model& m) {
    KerasLayout out;
    out.groups.push_back({"", m.name});
    Container root;
    if (!m.is_sequential())  // Functional.layers lists the InputLayer operations first
        for (const ModelInput& in : m.inputs) out.groups.push_back({root.child("input_layer"), in.name});
    add(m.layers, root, out);
    return out;
}

}  // namespace cnnc::engine
