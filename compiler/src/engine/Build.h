// A checked model becomes a runnable network: each leaf layer lowered to an Op reading the stages
// of its input tensors (blocks are flattened, their layers named by path), the model's inputs and
// outputs the network's, weights initialized as Keras does, from the seed.
#pragma once
#include <memory>

#include "kernel/Kernel.h"
#include "net/Network.h"
#include "sema/Program.h"

namespace cnnc::engine {

std::unique_ptr<rt::Network> build_network(const Model& m, KernelCache& cache, uint64_t seed);

}  // namespace cnnc::engine
