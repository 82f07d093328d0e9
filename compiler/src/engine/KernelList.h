// The kernels a file needs, listed without compiling any: what `cnnc build` compiles into an
// executable, what `cnnc run` compiles into its cache ahead of the run, and `cnnc dump kernels`.
#pragma once
#include <string>
#include <vector>

#include "frontend/Frontend.h"
#include "kernel/Kernel.h"

namespace cnnc::engine {

// Records which kernels are asked for and runs none (engine::prepare_program asks for them all).
class RecordingKernels : public KernelCache {
  public:
    std::vector<KernelSpec> specs;  // in the order first asked for, each once

  protected:
    std::shared_ptr<Kernel> make(const KernelSpec& spec, bool& compiled) override;
};

// `cnnc dump kernels`: each kernel's key, one a line, in the order a run asks for them. Throws
// rt::UserError as prepare_program does.
std::string dump_kernels(const Compilation& c, const std::string& file);

}  // namespace cnnc::engine
