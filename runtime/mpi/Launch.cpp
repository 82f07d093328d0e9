#include "mpi/Launch.h"

#include <fcntl.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "io/Replica.h"
#include "mpi/MpiWorld.h"
#include "train/Interrupt.h"

namespace cnnc::rt {

namespace {

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

}  // namespace

bool launched_by_mpirun() { return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr; }

MpiLaunch::MpiLaunch() {
    if (!launched_by_mpirun()) return;
    MPI_Init(nullptr, nullptr);
    active_ = true;
    set_world(mpi_world());
    set_output_private(true);
    // The ranks on one machine share its cores: each takes its part, unless HL_NUM_THREADS (or
    // --threads, which sets it later) says otherwise.
    if (!std::getenv("HL_NUM_THREADS")) {
        int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        int here = std::max(1, env_int("OMPI_COMM_WORLD_LOCAL_SIZE", 1));
        setenv("HL_NUM_THREADS", std::to_string(std::max(1, cores / here)).c_str(), 1);
    }
    if (world().writes()) return;
    // A replica: the same progress and files as rank 0, shown and published by rank 0 alone.
    // Errors (stderr) stay: a rank that fails says why itself.
    std::fflush(stdout);
    int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
        ::dup2(null, STDOUT_FILENO);
        ::close(null);
    }
    set_replica(true);
}

MpiLaunch::~MpiLaunch() {
    if (active_) MPI_Finalize();
}

int MpiLaunch::finish(int rc) {
    if (!active_) return rc;
    // Ctrl-C to mpirun: it sends SIGTERM to every rank, and the ranks, which sum whether a signal
    // came at every step, stop after the same step with 128 + the signal (rank 0 having saved the
    // state): nothing to abort, and aborting could cut rank 0's saving short.
    const bool interrupted = rc == 128 + SIGINT || rc == 128 + SIGTERM;
    if (rc != 0 && !interrupted && world().size() > 1) {
        std::fprintf(stderr, "cnnc: rank %d of %d failed (exit status %d): ending the job\n", world().rank(), world().size(), rc);
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    set_world(nullptr);
    MPI_Finalize();
    active_ = false;
    return rc;
}

}  // namespace cnnc::rt
