#include "lower/Lowering.h"

#include <map>

namespace cnnc::engine {

#define CNNC_LAYER(N) std::unique_ptr<rt::Op> lower_##N(const LowerContext&);
#include "layers/LayerList.def"
#undef CNNC_LAYER

LowerFn lowering_for(const LayerKind& kind) {
    static const std::map<std::string, LowerFn> table = {
#define CNNC_LAYER(N) {#N, &lower_##N},
#include "layers/LayerList.def"
#undef CNNC_LAYER
    };
    return table.at(kind.name);
}

void regularizer_penalties(const Value& reg, rt::Param& p) {
    if (reg.kind != Value::Kind::Call) return;
    for (const auto& a : reg.args) {
        if (a.name == "l1") p.l1 = a.value.as_double();
        if (a.name == "l2") p.l2 = a.value.as_double();
    }
}

std::vector<rt::Param> make_params(const LowerContext& c) {
    std::vector<rt::Param> out;
    for (const WeightSpec& w : c.node.weights) {
        rt::Param p;
        p.name = c.path + "/" + w.name;
        p.value.resize(w.shape.dims);
        p.value.fill(0);
        p.grad.resize(w.shape.dims);
        p.grad.fill(0);
        p.initializer = w.initializer;
        p.trainable = c.node.trainable && w.trainable;
        p.state = !w.trainable;
        std::string reg = w.name + "_regularizer";
        if (c.node.args.has(reg)) regularizer_penalties(c.node.args.get(reg), p);
        out.push_back(std::move(p));
    }
    return out;
}

bool any_trainable(const rt::Op& op) {
    for (const auto& p : op.params)
        if (p.trainable) return true;
    return false;
}

}  // namespace cnnc::engine
