#include "engine/Build.h"

#include "Error.h"
#include "engine/Activation.h"
#include "lower/Lowering.h"
#include "train/Init.h"
#include "train/Random.h"

namespace cnnc::engine {

static void add_layers(const std::vector<LayerNode>& layers, const std::string& prefix, KernelCache& cache, rt::Network& net) {
    for (const LayerNode& l : layers) {
        std::string path = prefix.empty() ? l.name : prefix + "/" + l.name;
        if (l.is_group()) {
            add_layers(l.children, path, cache, net);
            continue;
        }
        if (!l.kind->activation_arg.empty() && !l.args.is_none(l.kind->activation_arg)) {
            const std::string& act = l.args.text(l.kind->activation_arg);
            if (!activation_supported(act))
                throw rt::UserError("layer '" + path + "': activation '" + act + "' is not supported by the engine yet");
        }
        LowerContext ctx{l, cache, path};
        net.add(path, lowering_for(*l.kind)(ctx), l.out.dims);
    }
}

std::unique_ptr<rt::Network> build_network(const Model& m, KernelCache& cache, uint64_t seed) {
    if (!m.shaped) throw rt::UserError("model '" + m.name + "' has shape errors");
    auto net = std::make_unique<rt::Network>(m.input.dims);
    add_layers(m.layers, "", cache, *net);
    // Each weight gets its own stream, so adding a layer does not change the others' values.
    uint64_t k = 0;
    for (rt::Param* p : net->params()) {
        rt::Rng rng(rt::derive_seed(seed, 1000 + k++));
        rt::initialize(p->value, p->initializer, rng);
    }
    return net;
}

}  // namespace cnnc::engine
