#include "kernel/ParallelFor.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace cnnc::engine {

namespace {

inline void cpu_pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// One parallel loop: tasks are claimed `chunk` at a time by an atomic increment.
struct Job {
    halide_task_t f;
    void* user_context;
    uint8_t* closure;
    int min, size, chunk;
    std::atomic<int> next{0}, done{0}, error{0};
};

thread_local bool in_task = false;  // a worker, or a caller inside its own loop: nested loops run serially
std::atomic<bool> forked_child{false};

int run_serially(void* uc, halide_task_t f, int min, int size, uint8_t* closure) {
    for (int i = 0; i < size; ++i)
        if (int rc = f(uc, min + i, closure)) return rc;
    return 0;
}

void run_tasks(Job& j) {
    for (;;) {
        const int i = j.next.fetch_add(j.chunk, std::memory_order_relaxed);
        if (i >= j.size) return;
        const int end = std::min(i + j.chunk, j.size);
        for (int k = i; k < end; ++k)
            if (int rc = j.f(j.user_context, j.min + k, j.closure)) {
                int none = 0;
                j.error.compare_exchange_strong(none, rc);
            }
        j.done.fetch_add(end - i, std::memory_order_release);
    }
}

class Pool {
  public:
    static Pool& get() {
        static Pool* pool = new Pool;  // never destroyed: its workers outlive static destruction
        return *pool;
    }
    int workers() const { return workers_; }
    std::mutex busy;  // one loop at a time; a second caller meanwhile runs its own serially

    int run(Job& j) {
        job_.store(&j, std::memory_order_seq_cst);
        gen_.fetch_add(1, std::memory_order_seq_cst);
        // A worker that is about to sleep counts itself first, then looks at gen_ again; this
        // looks at the count after bumping gen_: one of the two sees the other (both seq_cst).
        if (sleepers_.load(std::memory_order_seq_cst) > 0) {
            std::lock_guard<std::mutex> lock(mu_);
            cv_.notify_all();
        }
        run_tasks(j);
        while (j.done.load(std::memory_order_acquire) < j.size) cpu_pause();
        // No worker may touch `j` after this returns: it is on the caller's stack. A worker counts
        // itself active before it reads job_, so once job_ is cleared and none is active, none can.
        job_.store(nullptr, std::memory_order_seq_cst);
        while (active_.load(std::memory_order_seq_cst) != 0) cpu_pause();
        return j.error.load();
    }

  private:
    Pool() {
        int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        if (const char* t = std::getenv("HL_NUM_THREADS"); t && std::atoi(t) > 0) n = std::atoi(t);
        workers_ = std::min(n, 256) - 1;
        pthread_atfork(nullptr, nullptr, [] { forked_child.store(true); });  // a child has no workers
        for (int i = 0; i < workers_; ++i) std::thread([this] { work(); }).detach();
    }

    void work() {
        in_task = true;
        uint64_t seen = gen_.load(std::memory_order_seq_cst);
        for (;;) {
            uint64_t g;
            auto since = std::chrono::steady_clock::now();
            for (int spins = 1; (g = gen_.load(std::memory_order_seq_cst)) == seen; ++spins) {
                for (int p = 0; p < 32; ++p) cpu_pause();
                if (spins % 16 == 0) sched_yield();  // a data loader's thread may want this core
                if (spins % 64 == 0 && std::chrono::steady_clock::now() - since > kSpin) {
                    std::unique_lock<std::mutex> lock(mu_);
                    sleepers_.fetch_add(1, std::memory_order_seq_cst);
                    cv_.wait(lock, [&] { return gen_.load(std::memory_order_seq_cst) != seen; });
                    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
                    since = std::chrono::steady_clock::now();
                }
            }
            seen = g;
            active_.fetch_add(1, std::memory_order_seq_cst);
            if (Job* j = job_.load(std::memory_order_seq_cst)) run_tasks(*j);  // claiming is idempotent
            active_.fetch_sub(1, std::memory_order_seq_cst);
        }
    }

    // How long an idle worker spins before it sleeps: longer than the gaps between a training
    // step's kernels (the optimizer, the next batch: well under a millisecond).
    static constexpr std::chrono::milliseconds kSpin{2};
    int workers_ = 0;
    std::atomic<uint64_t> gen_{0};
    std::atomic<Job*> job_{nullptr};
    std::atomic<int> active_{0}, sleepers_{0};
    std::mutex mu_;
    std::condition_variable cv_;
};

}  // namespace

int parallel_for(void* user_context, halide_task_t f, int min, int size, uint8_t* closure) {
    if (size <= 1 || in_task || forked_child.load(std::memory_order_relaxed)) return run_serially(user_context, f, min, size, closure);
    Pool& pool = Pool::get();
    if (pool.workers() == 0 || !pool.busy.try_lock()) return run_serially(user_context, f, min, size, closure);
    Job j;
    j.f = f, j.user_context = user_context, j.closure = closure, j.min = min, j.size = size;
    // Several chunks a thread, so a thread slowed by the machine's other load is caught up by the others.
    j.chunk = std::max(1, size / (8 * (pool.workers() + 1)));
    in_task = true;
    const int rc = pool.run(j);
    in_task = false;
    pool.busy.unlock();
    return rc;
}

}  // namespace cnnc::engine
