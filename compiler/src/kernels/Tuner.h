// Schedules chosen by measurement on the machine that runs them. The first time a file's kernels
// meet a CPU, each compute-bound kernel (kernels/Tuning.h lists the families) is compiled with a
// few schedules (register tiles, vector width, parallel grain, partial sums), each timed on its
// real shapes at the run's batch size, and the fastest kept: in a schedules file in the kernel
// cache's directory, one per CPU (its model, Halide's view of its features, and the thread count),
// so the search is paid once per machine and kernel, and again when the kernel builders change. A
// later run reads the choices and measures nothing. A schedule wins only when it beats the
// builder's default by more than the noise margin; every choice computes the same function
// (rounding aside: the reduction order may differ).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "kernel/Kernel.h"
#include "kernels/Jit.h"
#include "kernels/Tuning.h"

namespace cnnc::engine {

// "off" (the builders' defaults, nothing read or measured), "quick" (3 schedules a kernel) or
// "full" (up to 11); throws std::invalid_argument otherwise.
TuneLevel parse_tune_level(const std::string& s);
const char* tune_level_name(TuneLevel l);

// Pseudo-random values in [-1, 1) for timing a kernel: no denormals, no NaN, the same every run.
void fill_for_timing(Buf& b, uint32_t seed);

// What the schedules of this machine are keyed by, for kernels compiled for `t`: "AMD EPYC
// (family 26 model 2); x86-64-linux-avx...; 2 threads".
std::string cpu_identity(const Halide::Target& t = host_target());

// The hash of the kernel builders' sources this cnnc was built from (compiler/CMakeLists.txt
// computes it). A schedules file records it: choices measured with other builders (another
// release, a changed default tile or knob) are stale, and are measured again.
std::string builders_identity();

// The choices of one CPU: kernel key -> knobs, with the default's and the winner's times.
class ScheduleBook {
  public:
    struct Entry {
        Knobs knobs;        // all zero: the default won
        double default_ms = 0, best_ms = 0;
        int tried = 0;
        TuneLevel level = TuneLevel::Quick;  // the search that chose it: a fuller one measures again
    };
    // The book of `identity` in `dir` (a missing or unreadable file is an empty book; a malformed
    // line is skipped: the file is a cache, never a reason to stop).
    ScheduleBook(std::string dir, std::string identity);
    const std::string& path() const { return path_; }
    const Entry* find(const std::string& key) const;
    void put(const std::string& key, const Entry& e) { entries_[key] = e; }
    // Whether its directory exists (made now if missing) and can be written.
    bool writable() const;
    // Writes the book atomically, with what another process saved meanwhile for other kernels;
    // throws rt::UserError when it cannot (the caller warns).
    void save();
    size_t size() const { return entries_.size(); }

  private:
    std::string path_, identity_;
    std::map<std::string, Entry> entries_;
};

struct TuneReport {
    int tuned = 0;        // kernels measured now
    int known = 0;        // kernels whose choice the book had
    int changed = 0;      // kernels whose schedule is not the default
    int compiled = 0;     // schedules compiled to be timed
    double seconds = 0;   // compiling and timing, wall clock
    double default_ms = 0, best_ms = 0;  // the measured kernels' summed times, one call each
    std::string book;     // the schedules file
    bool unsaved = false; // kernels needed measuring, but the book could not be written: none was
    // "tuned 8 kernels for this CPU in 6.1 s: 3 changed, 4.41 -> 3.92 ms a step (1.13x)"
    std::string describe() const;
};

struct TuneOptions {
    TuneLevel level = TuneLevel::Quick;
    Halide::Target target = host_target();  // the target `bench` compiles for: the schedules file is its own
    int batch = 32;                  // the batch the kernels are timed at
    std::string dir;                 // where the schedules files are kept
    bool measure = true;             // false: only read the book (ranks of an MPI job)
    double min_mflop = 2.0;          // kernels smaller than this at `batch` keep the default
    // The buffers one kernel is timed on, at most: past it the batch is halved until they fit
    // (ranking schedules needs no 2.6 GB tensor); a kernel past it at batch 1 is not measured.
    double max_bytes = 1024.0 * 1024 * 1024;
};

// Measures (where the schedules file can be written), with kernels made by `bench` (a backend of its own: the candidates' kernels are not the
// run's), the tunable kernels of `specs` that the book lacks; returns the scheduled spec of every
// kernel of `specs` whose choice is not the default (for KernelCache::use_schedules).
std::map<std::string, KernelSpec> tune_kernels(const std::vector<KernelSpec>& specs, KernelCache& bench, const TuneOptions& o,
                                               TuneReport& report);

}  // namespace cnnc::engine
