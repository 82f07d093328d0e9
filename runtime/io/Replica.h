// A data-parallel replica (an MPI rank other than 0, runtime/mpi/) computes every file rank 0
// writes but publishes none: the files it stages (io/AtomicFile.h) go to the system's temporary
// directory and are removed at commit(), nothing is removed in their stead, and no output
// directory is created or probed. One switch for the process, set once at startup.
#pragma once

namespace cnnc::rt {

void set_replica(bool replica);

}  // namespace cnnc::rt
