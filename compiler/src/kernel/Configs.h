// What the ops and the kernel builders of several families both need to know about activations.
// Each family's kernel configuration (its static arguments, to and from a KernelSpec) is in its
// folder, compiler/src/layers/<family>/Config.h, part of this layer too. No Halide here: the ops
// that use these run in `cnnc build` executables, which have no libHalide.
#pragma once
#include <string>

#include "ir/Activation.h"
#include "kernel/Kernel.h"

namespace cnnc::engine {

// Activations whose derivative needs their input, not their output (kNeedsInput in
// ir/ActivationList.def): a layer does not fuse them; they run as an Activation stage of their own.
inline bool activation_needs_input(const std::string& a) { return activation_traits(a).needs_input; }

}  // namespace cnnc::engine
