// Allocating what a data file declares: the binary readers check a declared size against the
// memory the process may use before they allocate it, so a small file that declares gigabytes is
// an error naming the file rather than bad_alloc or the OOM killer.
#pragma once
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <string>

#include "Error.h"

namespace cnnc::rt {

// The memory the process may use: physical memory, or less under `ulimit -v`.
inline uint64_t memory_limit() {
    uint64_t limit = static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    struct rlimit rl;
    if (::getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) limit = std::min<uint64_t>(limit, rl.rlim_cur);
    return limit;
}

// What make() allocates for `path`'s contents (`bytes` of them), or an error naming the file when
// that is more than the process may have.
template <typename T, typename Make>
T allocate(const std::string& path, uint64_t bytes, const std::string& what, Make make) {
    uint64_t limit = memory_limit();
    if (bytes >= limit)
        throw UserError(fmt::format("{}: {} need {:.2f} GB of memory, more than this process may use ({:.2f} GB)", path, what,
                                    static_cast<double>(bytes) / 1e9, static_cast<double>(limit) / 1e9));
    try {
        return make();
    } catch (const std::bad_alloc&) {
        throw UserError(fmt::format("{}: out of memory for {} ({:.2f} GB)", path, what, static_cast<double>(bytes) / 1e9));
    }
}

}  // namespace cnnc::rt
