// What the stages ask of an activation besides its formula, as its line in ir/ActivationList.def
// states it: the kernels, the ops, the losses and `cnnc predict` read these properties here,
// never by comparing names.
#pragma once
#include <string>

namespace cnnc {

// The properties a line of ActivationList.def combines with `|` (kPlain: none of them).
enum ActivationProperty : unsigned {
    kPlain = 0,
    // Its derivative needs its input z, not its output y (y does not determine z: not monotonic),
    // so a layer does not fuse it; it runs as an Activation stage of its own.
    kNeedsInput = 1,
    // It normalises across the channels (softmax): not elementwise, so a kernel that fuses it
    // materialises its input first.
    kAcrossChannels = 2,
    // Its outputs are probabilities: what a probabilistic loss expects, and what `cnnc predict`
    // prints as such.
    kProbabilities = 4,
};

struct ActivationTraits {
    bool needs_input, across_channels, probabilities;
};

// The properties of the activation named `name` (Keras' name or an alias); an unknown name is a
// bug (logic_error): the checker has accepted every name that reaches here.
ActivationTraits activation_traits(const std::string& name);

}  // namespace cnnc
