#include "mpi/MpiWorld.h"

#include <mpi.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace cnnc::rt {

namespace {

class MpiWorld : public Collective {
  public:
    MpiWorld() {
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
    }
    // With CNNC_MPI_STATS set, each rank says at the end what summing the gradients cost per
    // step (one wait_all() each): the figures bench/mpi-scaling reads. `waited` is the time the
    // step stood still for them after its backward pass; `from start` runs from the step's first
    // start_sum(), so the difference is what overlapped with the backward pass.
    ~MpiWorld() override {
        if (std::getenv("CNNC_MPI_STATS") && steps_ > 0) {
            const double n = static_cast<double>(steps_);
            std::fprintf(stderr, "cnnc: rank %d: %lld steps, gradients of %.0f bytes in %.1f allreduces per step, "
                         "%.3f ms waited, %.3f ms from start\n", rank_, static_cast<long long>(steps_), bytes_ / n, sums_ / n,
                         1e3 * waited_ / n, 1e3 * span_ / n);
        }
    }
    int rank() const override { return rank_; }
    int size() const override { return size_; }
    void allreduce_sum(float* data, size_t n) override { each_chunk(data, n, MPI_FLOAT); }
    void start_sum(float* data, size_t n) override {
        if (requests_.empty()) first_start_ = MPI_Wtime();
        for (size_t done = 0; done < n; done += static_cast<size_t>(chunk(n - done))) {
            requests_.emplace_back();
            MPI_Iallreduce(MPI_IN_PLACE, data + done, chunk(n - done), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &requests_.back());
        }
        bytes_ += static_cast<double>(n * sizeof(float));
        ++sums_;
    }
    void progress() override {
        int done = 0;
        if (!requests_.empty()) MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &done, MPI_STATUSES_IGNORE);
    }
    void wait_all() override {
        if (requests_.empty()) return;
        const double t0 = MPI_Wtime();
        MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
        requests_.clear();
        const double t1 = MPI_Wtime();
        waited_ += t1 - t0;
        span_ += t1 - first_start_;
        ++steps_;
    }
    void allreduce_sum(double* data, size_t n) override { each_chunk(data, n, MPI_DOUBLE); }
    void broadcast(double* data, size_t n, int root) override {
        for (size_t done = 0; done < n; done += chunk(n - done)) MPI_Bcast(data + done, chunk(n - done), MPI_DOUBLE, root, MPI_COMM_WORLD);
    }
    void barrier() override { MPI_Barrier(MPI_COMM_WORLD); }

  private:
    // MPI counts are ints: a buffer of more than INT_MAX values goes in pieces.
    static int chunk(size_t left) { return static_cast<int>(left < static_cast<size_t>(INT_MAX) ? left : static_cast<size_t>(INT_MAX)); }
    template <typename T>
    void each_chunk(T* data, size_t n, MPI_Datatype type) {
        for (size_t done = 0; done < n; done += static_cast<size_t>(chunk(n - done)))
            MPI_Allreduce(MPI_IN_PLACE, data + done, chunk(n - done), type, MPI_SUM, MPI_COMM_WORLD);
    }
    int rank_ = 0, size_ = 1;
    std::vector<MPI_Request> requests_;  // the started sums
    double first_start_ = 0;
    int64_t steps_ = 0;
    double sums_ = 0, bytes_ = 0, waited_ = 0, span_ = 0;
};

}  // namespace

std::unique_ptr<Collective> mpi_world() { return std::make_unique<MpiWorld>(); }

}  // namespace cnnc::rt
