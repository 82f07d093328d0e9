#include "ir/Activation.h"

#include <stdexcept>

namespace cnnc {

static unsigned properties(const std::string& a) {
#define CNNC_ACTIVATION(name, props, doc) \
    if (a == #name) return props;
#define CNNC_ACTIVATION_ALIAS(alias, name) \
    if (a == #alias) return properties(#name);
#include "ir/ActivationList.def"
#undef CNNC_ACTIVATION
#undef CNNC_ACTIVATION_ALIAS
    throw std::logic_error("internal: activation '" + a + "' is not in ActivationList.def");
}

ActivationTraits activation_traits(const std::string& name) {
    const unsigned p = properties(name);
    return {(p & kNeedsInput) != 0, (p & kAcrossChannels) != 0, (p & kProbabilities) != 0};
}

}  // namespace cnnc
