// A process that mpirun started: MPI is initialised only then, so `cnnc run` alone is exactly the
// single process it always was. Under mpirun the process joins the data-parallel world (rank 0
// writes the output; the others print nothing to stdout and publish no file), picks its share of
// the machine's cores, and at the end either finalises MPI or, failing, ends the whole job.
#pragma once

namespace cnnc::rt {

// True when this process was started by Open MPI's mpirun (or another launcher that sets
// OMPI_COMM_WORLD_SIZE, as its PMIx runtime does for every rank).
bool launched_by_mpirun();

class MpiLaunch {
  public:
    // Initialises MPI when launched_by_mpirun(); otherwise does nothing.
    MpiLaunch();
    ~MpiLaunch();
    MpiLaunch(const MpiLaunch&) = delete;
    MpiLaunch& operator=(const MpiLaunch&) = delete;
    // The exit status to return, `rc`. A rank that fails (rc != 0) in a world of several has
    // printed its error already; it says which rank it is and aborts the job, so that no other
    // rank waits for it in a collective. An interrupted training (exit status 128 + SIGINT or
    // SIGTERM) stopped every rank at the same step: MPI is finalised as after a success.
    int finish(int rc);

  private:
    bool active_ = false;
};

}  // namespace cnnc::rt
