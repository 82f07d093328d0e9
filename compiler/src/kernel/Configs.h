// What the ops and the kernel builders of several families both need to know about activations.
// Each family's kernel configuration (its static arguments, to and from a KernelSpec) is in its
// folder, compiler/src/layers/<family>/Config.h, part of this layer too. No Halide here: the ops
// that use these run in `cnnc build` executables, which have no libHalide.
#pragma once
#include <string>

#include "kernel/Kernel.h"

namespace cnnc::engine {

// Activations whose derivative needs their input, not their output (gelu and swish are not
// monotonic): a layer does not fuse them; they run as an Activation stage of their own.
inline bool activation_needs_input(const std::string& a) { return a == "gelu" || a == "swish"; }

}  // namespace cnnc::engine
