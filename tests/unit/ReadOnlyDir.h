// A directory the test process cannot write to, even when the tests run as root (as in CI's
// container), where permission bits do not stop anyone: there it is a read-only tmpfs mount, so
// the test really runs instead of passing without trying. Where neither works (root without the
// right to mount), the test is skipped (Helpers.h: skip), never passed.
#pragma once
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "Helpers.h"

namespace cnnc::test {

class ReadOnlyDir {
  public:
    // Creates `path`, lets `fill` put files in it while it is still writable, then makes it read-only.
    template <class Fill>
    ReadOnlyDir(const std::string& path, Fill fill) : path_(path) {
        std::filesystem::create_directories(path_);
        if (::geteuid() != 0) {
            fill();
            REQUIRE(::chmod(path_.c_str(), 0555) == 0);
            reason_ = std::strerror(EACCES);
            return;
        }
        if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, "size=1m") != 0)
            skip("running as root, and cannot mount a tmpfs to get a read-only directory: " + std::string(std::strerror(errno)));
        mounted_ = true;
        fill();
        REQUIRE(::mount(nullptr, path_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0);
        reason_ = std::strerror(EROFS);
    }
    ~ReadOnlyDir() {
        if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
        else ::chmod(path_.c_str(), 0755);  // so the enclosing TempDir can remove it
    }
    ReadOnlyDir(const ReadOnlyDir&) = delete;
    ReadOnlyDir& operator=(const ReadOnlyDir&) = delete;

    // What a failed write in it reports: "Permission denied", or "Read-only file system" as root.
    const std::string& reason() const { return reason_; }

  private:
    std::string path_, reason_;
    bool mounted_ = false;
};

}  // namespace cnnc::test
