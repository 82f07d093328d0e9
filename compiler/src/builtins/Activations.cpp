// Activation functions accepted by `activation = ...` and the Activation layer (Keras names), from
// the list ir/ActivationList.def.
#include <stdexcept>

#include "builtins/Builtins.h"

namespace cnnc {

// The entry an alias line names, which the list defines above it.
static Builtin& find_named(std::vector<Builtin>& v, const std::string& name) {
    for (Builtin& b : v)
        if (b.name == name) return b;
    throw std::logic_error("internal: ActivationList.def aliases '" + name + "' before defining it");
}

const std::vector<Builtin>& activations() {
    static const std::vector<Builtin> list = [] {
        std::vector<Builtin> v;
#define CNNC_ACTIVATION(name, props, doc) v.push_back({#name, {}, doc, {}});
#define CNNC_ACTIVATION_ALIAS(alias, name) find_named(v, #name).aliases.push_back(#alias);
#include "ir/ActivationList.def"
#undef CNNC_ACTIVATION
#undef CNNC_ACTIVATION_ALIAS
        return v;
    }();
    return list;
}

}  // namespace cnnc
