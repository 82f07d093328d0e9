#include "driver/Tune.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "kernels/Aot.h"
#include "kernels/Jit.h"
#include "mpi/Launch.h"

namespace cnnc::driver {

engine::TuneLevel tune_level(const std::string& option) {
    if (!option.empty()) return engine::parse_tune_level(option);
    if (const char* env = std::getenv("CNNC_TUNE"); env && *env) {
        try {
            return engine::parse_tune_level(env);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(std::string("CNNC_TUNE: ") + e.what());
        }
    }
    return engine::TuneLevel::Quick;
}

std::map<std::string, engine::KernelSpec> tune_for(const Compilation& c, const std::vector<engine::KernelSpec>& specs, engine::TuneLevel level,
                                                   engine::TuneReport& report) {
    engine::TuneOptions o;
    o.level = level;
    // Timed at the batch the file trains with: the shapes its kernels will run on.
    o.batch = c.program.trains.empty() ? 32 : static_cast<int>(std::min<int64_t>(c.program.trains.front().batch_size, 4096));
    o.dir = engine::ObjectCache::default_dir();
    o.measure = !rt::launched_by_mpirun();
    // The candidates' kernels: compiled into the cache, not the run's. Where the cache cannot be
    // written nothing is measured (tune_kernels checks), and the run's own cache says why once.
    std::unique_ptr<engine::KernelCache> bench;
    if (engine::ScheduleBook(o.dir, engine::cpu_identity()).writable())
        bench = std::make_unique<engine::DiskKernels>(o.dir);
    else
        bench = std::make_unique<engine::JitKernels>();
    auto chosen = engine::tune_kernels(specs, *bench, o, report);
    if (report.tuned > 0 || report.unsaved) {
        fmt::print("{}\n", report.describe());
        std::fflush(stdout);
    }
    return chosen;
}

}  // namespace cnnc::driver
