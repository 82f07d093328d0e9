/* The allreduce cost on this machine, for bench/mpi-scaling: MPI_Allreduce (sum of floats, in
 * place, as runtime/mpi/MpiWorld.cpp sums) over buffers of 4 bytes to 64 MB. Each size is timed in
 * TRIALS trials, each over enough repetitions to take about 0.05 s, and the median trial is kept:
 * one trial slowed by another job on the machine does not move it. Prints "bytes seconds" per
 * size on rank 0. Built by bench/mpi-scaling with mpicc; run under mpirun. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#define TRIALS 7

static int by_value(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const long max = 16L << 20; /* floats: 64 MB */
    float* buf = calloc((size_t)max, sizeof(float));
    for (long n = 1; n <= max; n *= 4) {
        int reps = 1;
        double took;
        for (;;) { /* grow the repetitions until a trial is long enough to trust */
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            for (int r = 0; r < reps; ++r) MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            took = MPI_Wtime() - t0;
            MPI_Bcast(&took, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
            if (took > 0.05 || reps >= 1 << 16) break;
            reps *= 4;
        }
        double trial[TRIALS];
        for (int t = 0; t < TRIALS; ++t) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            for (int r = 0; r < reps; ++r) MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            trial[t] = (MPI_Wtime() - t0) / reps;
        }
        qsort(trial, TRIALS, sizeof trial[0], by_value);
        if (rank == 0) printf("%ld %.9f\n", n * 4, trial[TRIALS / 2]);
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
