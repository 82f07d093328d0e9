// Shared by the reader fuzz targets: the readers take paths, so each input is written to a file
// first (in /dev/shm when there is one, to keep the disk out of the loop). The property under test
// is the project's rule for bad input: a reader either succeeds or throws rt::UserError. Anything
// else (another exception, which cnnc reports as "internal error", a crash, a sanitizer report,
// a hang, or an allocation beyond libFuzzer's -malloc_limit_mb) is a finding.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "Error.h"

namespace cnnc::fuzz {

// A directory of this process's own, removed with everything in it when the process exits. (Never
// destroyed itself: the exit handler that removes the directory runs after static destructors.)
inline const std::string& scratch_dir() {
    static const std::string* dir = [] {
        std::string base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        auto* d = new std::string(base + "/cnnc-fuzz-" + std::to_string(getpid()));
        std::filesystem::create_directories(*d);
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(scratch_dir(), ec);
        });
        return d;
    }();
    return *dir;
}

// Writes `size` bytes to scratch_dir()/name and returns the path.
inline std::string write_input(const std::string& name, const void* data, size_t size) {
    std::string path = scratch_dir() + "/" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) std::abort();
    return path;
}

// Runs a reader: success and rt::UserError are both fine; any other exception escapes and
// libFuzzer reports it (std::terminate) with the input that caused it.
template <class F>
void expect_success_or_user_error(F&& read) {
    try {
        read();
    } catch (const rt::UserError&) {
    }
}

}  // namespace cnnc::fuzz
