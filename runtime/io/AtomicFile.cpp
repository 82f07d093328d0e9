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
#include "io/Replica.h"

namespace cnnc::rt {
namespace {

namespace fs = std::filesystem;

std::atomic<bool> replica{false};

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

StagedFiles::~StagedFiles() {
    for (const Entry& e : staged_) ::unlink(e.temp.c_str());
}

std::string StagedFiles::stage(const std::string& path) {
    fs::path target(path);
    if (!target.has_filename()) throw UserError(fmt::format("{}: not a file name", path));
    fs::path dir = target.parent_path();
    if (replica) target = fs::temp_directory_path() / target.filename();
    else if (!dir.empty()) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) throw UserError(fmt::format("{}: cannot create directory {}: {}", path, dir.string(), ec.message()));
    }
    std::string temp;
    int fd = open_temp(target, temp);
    if (fd < 0) throw UserError(fmt::format("{}: cannot create a file in {}: {}", path, dir.empty() ? "." : dir.string(), std::strerror(errno)));
    staged_.push_back({path, temp});
    struct stat old;
    bool keep_mode = ::stat(path.c_str(), &old) == 0 && S_ISREG(old.st_mode);
    int err = keep_mode && ::fchmod(fd, old.st_mode & 07777) != 0 ? errno : 0;
    ::close(fd);
    if (err) throw UserError(fmt::format("{}: cannot keep the file's permissions: {}", path, std::strerror(err)));
    return temp;
}

void StagedFiles::stage_contents(const std::string& path, const std::string& contents) {
    std::string temp = stage(path);
    int fd = ::open(temp.c_str(), O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && write_all(fd, contents);
    int err = errno;
    if (fd >= 0 && ::close(fd) != 0 && ok) ok = false, err = errno;
    if (!ok) throw UserError(fmt::format("{}: cannot write: {}", path, std::strerror(err)));
}

void StagedFiles::remove_at_commit(const std::string& target) { removed_.push_back(target); }

void StagedFiles::commit() {
    // The data must be on disk before a rename publishes it; a full disk shows here at the latest
    // (delayed allocation), while every old file is still in place.
    for (const Entry& e : staged_) {
        int fd = ::open(e.temp.c_str(), O_RDONLY | O_CLOEXEC);
        int err = fd < 0 ? errno : ::fsync(fd) != 0 ? errno : 0;
        if (fd >= 0) ::close(fd);
        if (err) throw UserError(fmt::format("{}: cannot write: {}", e.target, std::strerror(err)));
    }
    if (replica) {
        for (const Entry& e : staged_) ::unlink(e.temp.c_str());
        staged_.clear();
        removed_.clear();
        return;
    }
    while (!staged_.empty()) {
        const Entry& e = staged_.front();
        if (::rename(e.temp.c_str(), e.target.c_str()) != 0)
            throw UserError(fmt::format("{}: cannot replace it: {}", e.target, std::strerror(errno)));
        sync_directory(fs::path(e.target).parent_path());
        staged_.erase(staged_.begin());
    }
    for (const std::string& r : removed_) ::unlink(r.c_str());
    removed_.clear();
}

void write_file_atomically(const std::string& path, const std::string& contents) {
    StagedFiles f;
    f.stage_contents(path, contents);
    f.commit();
}

void check_writable_directory(const std::string& dir, const std::string& what) {
    auto fail = [&](const std::string& why) { return UserError(fmt::format("{} {}: cannot write there: {}", what, dir, why)); };
    if (replica) return;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw fail(ec.message());
    if (!fs::is_directory(dir, ec)) throw fail("not a directory");
    std::string temp;
    int fd = open_temp(fs::path(dir) / ".cnnc-write-test", temp);
    if (fd < 0) throw fail(std::strerror(errno));
    bool ok = write_all(fd, "x") && ::fsync(fd) == 0;
    int err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    if (!ok) throw fail(std::strerror(err));
}

void set_replica(bool r) { replica = r; }

}  // namespace cnnc::rt
