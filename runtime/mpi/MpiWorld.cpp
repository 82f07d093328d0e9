#include "mpi/MpiWorld.h"

#include <mpi.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace cnnc::rt {

namespace {

class MpiWorld : public Collective {
  public:
    MpiWorld() {
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
    }
    // With CNNC_MPI_STATS set, each rank says at the end what its float allreduces (the
    // gradients) cost: the figure bench/mpi-scaling reads.
    ~MpiWorld() override {
        if (std::getenv("CNNC_MPI_STATS") && float_calls_ > 0)
            std::fprintf(stderr, "cnnc: rank %d: %lld gradient allreduces of %.0f bytes, %.3f ms each\n", rank_,
                         static_cast<long long>(float_calls_), float_bytes_ / static_cast<double>(float_calls_),
                         1e3 * float_seconds_ / static_cast<double>(float_calls_));
    }
    int rank() const override { return rank_; }
    int size() const override { return size_; }
    void allreduce_sum(float* data, size_t n) override {
        const double t0 = MPI_Wtime();
        each_chunk(data, n, MPI_FLOAT);
        float_seconds_ += MPI_Wtime() - t0;
        float_bytes_ += static_cast<double>(n * sizeof(float));
        ++float_calls_;
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
    int64_t float_calls_ = 0;
    double float_seconds_ = 0, float_bytes_ = 0;
};

}  // namespace

std::unique_ptr<Collective> mpi_world() { return std::make_unique<MpiWorld>(); }

}  // namespace cnnc::rt
