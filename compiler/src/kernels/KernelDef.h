// A kernel as a builder defines it: a Halide pipeline and its parameters in argument order (input
// buffers, then ints; the outputs follow when it is called). Backends compile it (Jit.h, Aot.h).
#pragma once
#include <Halide.h>

#include <vector>

#include "kernel/Kernel.h"

namespace cnnc::engine {

struct KernelDef {
    Halide::Pipeline pipeline;
    std::vector<Halide::ImageParam> inputs;
    std::vector<Halide::Param<int>> ints;
    // The arguments of the compiled function, outputs excluded (Halide appends them).
    std::vector<Halide::Argument> arguments() const;
};

// The definition for `spec`, from the builder list (kernels/Builders.cpp). Throws
// std::runtime_error for an unknown builder name.
KernelDef build_kernel(const KernelSpec& spec);

}  // namespace cnnc::engine
