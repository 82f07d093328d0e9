// A checked model becomes a runnable network: each leaf layer lowered to an Op (blocks are
// flattened, their layers named by path), weights initialized as Keras does, from the seed.
#pragma once
#include <memory>

#include "kernel/Kernel.h"
#include "net/Network.h"
#include "sema/Program.h"

namespace cnnc::engine {

std::unique_ptr<rt::Network> build_network(const Model& m, KernelCache& cache, uint64_t seed);

}  // namespace cnnc::engine
