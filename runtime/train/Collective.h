// The processes a training run is spread over, as the training loop sees them: data-parallel
// ranks that each train on their part of every global batch and sum what they computed. One
// process (the default) is a world of one, whose operations do nothing; runtime/mpi/ provides the
// MPI world when the run was launched by mpirun. The loop knows no MPI.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace cnnc::rt {

class Collective {
  public:
    virtual ~Collective() = default;
    virtual int rank() const = 0;
    virtual int size() const = 0;
    // In place: every rank ends with the element-wise sum over all ranks.
    virtual void allreduce_sum(float* data, size_t n) = 0;
    virtual void allreduce_sum(double* data, size_t n) = 0;
    // Non-blocking, in place: starts summing `data` over the ranks; the sum is there once
    // wait_all() returns, and `data` must stay untouched until then. Every rank starts the same
    // sums in the same order (MPI's rule for collectives).
    virtual void start_sum(float* data, size_t n) = 0;
    // Lets the started sums advance: Open MPI's shared-memory transport moves data only inside MPI
    // calls, so a caller that computes meanwhile calls this now and then.
    virtual void progress() = 0;
    // Waits for every started sum.
    virtual void wait_all() = 0;
    // In place: every rank ends with rank `root`'s values.
    virtual void broadcast(double* data, size_t n, int root) = 0;
    virtual void barrier() = 0;
    // Rank 0 writes the run's output (progress, history, weights, state); the others are replicas.
    bool writes() const { return rank() == 0; }
};

// The world of this process: a single process unless set_world() installed another.
Collective& world();
// Installs the world (runtime/mpi/ at startup under mpirun); null restores the single process.
void set_world(std::unique_ptr<Collective> w);

// The contiguous part [begin, end) of `n` items that `rank` of `size` takes: sizes differ by at
// most one, and the parts, in rank order, are the whole.
struct Shard {
    int64_t begin = 0, end = 0;
    int64_t size() const { return end - begin; }
};
Shard shard(int64_t n, int rank, int size);

}  // namespace cnnc::rt
