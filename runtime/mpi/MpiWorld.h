// The data-parallel world over MPI (Open MPI): the ranks mpirun started, as the training loop's
// Collective (runtime/train/Collective.h).
#pragma once
#include <memory>

#include "train/Collective.h"

namespace cnnc::rt {

// MPI_COMM_WORLD; MPI must be initialised. Every operation but start_sum() is blocking, and a failed
// one ends the job (MPI's default error handler on MPI_COMM_WORLD aborts), so no rank waits for a dead one.
std::unique_ptr<Collective> mpi_world();

}  // namespace cnnc::rt
