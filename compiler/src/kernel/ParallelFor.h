// The parallel loops of every kernel (Halide's halide_do_par_for, replaced in each backend).
//
// Why not Halide's own thread pool: its workers spin through 40 sched_yield calls and then sleep,
// and every task is taken under one global mutex. A training step leaves the workers idle for a
// few hundred microseconds (the optimizer, the next batch), long enough to fall asleep, and on a
// virtual machine a sleeping vCPU takes longer to wake than a small kernel takes to run: MNIST's
// first convolution ran at 0.38 ms a step on 2 threads against 0.18 ms on one. Here the workers
// spin (with a pause, yielding the core to the hypervisor's other thread) for a few milliseconds
// before they sleep, and take tasks with one atomic increment each.
#pragma once
#include <HalideRuntime.h>

namespace cnnc::engine {

// halide_do_par_for's contract: runs f(user_context, i, closure) for i in [min, min + size), on
// the calling thread and the pool's workers; returns 0, or the first nonzero value a task
// returned. A call from inside a task (a nested parallel loop) runs its tasks on that thread.
int parallel_for(void* user_context, halide_task_t f, int min, int size, uint8_t* closure);

}  // namespace cnnc::engine
