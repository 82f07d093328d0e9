#include "io/AtomicFile.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "Error.h"

namespace cnnc::rt {
namespace {

namespace fs = std::filesystem;

// Opens a new temporary file next to `target`. Hidden, and named after the target, so a stray one
// left by a killed process is recognisable; pid and counter keep concurrent writers apart.
int open_temp(const fs::path& target, std::string& temp_path) {
    static std::atomic<unsigned> counter{0};
    for (int attempt = 0; attempt < 100; ++attempt) {
        fs::path temp = target.parent_path() / fmt::format(".{}.tmp.{}.{}", target.filename().string(),
                                                           static_cast<long>(::getpid()), counter++);
        // 0666 so the umask applies as it would to any new file.
        int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            temp_path = temp.string();
            return fd;
        }
        if (errno != EEXIST) return -1;
    }
    errno = EEXIST;
    return -1;
}

bool write_all(int fd, const std::string& contents) {
    const char* p = contents.data();
    size_t left = contents.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
    return true;
}

// Makes the rename itself durable. Best effort: some file systems refuse fsync on a directory,
// and the data is already safe in the file either way.
void sync_directory(const fs::path& dir) {
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& contents) {
    fs::path target(path);
    if (!target.has_filename()) throw UserError(fmt::format("{}: not a file name", path));
    fs::path dir = target.parent_path();
    if (!dir.empty()) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) throw UserError(fmt::format("{}: cannot create directory {}: {}", path, dir.string(), ec.message()));
    }

    std::string temp;
    int fd = open_temp(target, temp);
    if (fd < 0) throw UserError(fmt::format("{}: cannot create a file in {}: {}", path,
                                            dir.empty() ? "." : dir.string(), std::strerror(errno)));
    auto fail = [&](const char* doing) {
        int err = errno;
        if (fd >= 0) ::close(fd);
        ::unlink(temp.c_str());
        throw UserError(fmt::format("{}: cannot {}: {}", path, doing, std::strerror(err)));
    };

    struct stat old;
    if (::stat(path.c_str(), &old) == 0 && S_ISREG(old.st_mode) && ::fchmod(fd, old.st_mode & 07777) != 0) {
        fail("keep the file's permissions");
    }
    if (!write_all(fd, contents)) fail("write");
    if (::fsync(fd) != 0) fail("write");  // the data must be on disk before the rename publishes it
    int closed = ::close(fd);
    fd = -1;
    if (closed != 0) fail("write");
    if (::rename(temp.c_str(), path.c_str()) != 0) fail("replace it");
    sync_directory(dir);
}

}  // namespace cnnc::rt
