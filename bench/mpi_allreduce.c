/* The allreduce cost on this machine, for bench/mpi-scaling: MPI_Allreduce (sum of floats, in
 * place, as runtime/mpi/MpiWorld.cpp calls it) over buffers of 4 bytes to 64 MB, each size timed
 * over enough repetitions to take about 0.2 s. Prints "bytes seconds" per line on rank 0.
 * Built by bench/mpi-scaling with mpicc; run under mpirun. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const long max = 16L << 20; /* floats: 64 MB */
    float* buf = calloc((size_t)max, sizeof(float));
    for (long n = 1; n <= max; n *= 4) {
        int reps = 1;
        double took = 0;
        for (;;) { /* grow the repetitions until the timing is long enough to trust */
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            for (int r = 0; r < reps; ++r) MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            took = MPI_Wtime() - t0;
            MPI_Bcast(&took, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
            if (took > 0.2 || reps >= 1 << 16) break;
            reps *= 4;
        }
        if (rank == 0) printf("%ld %.9f\n", n * 4, took / reps);
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
