#include "data/ImageCache.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "Error.h"
#include "data/Allocate.h"

namespace cnnc::rt {

MemoryImageCache::MemoryImageCache(int64_t n, int64_t pixels)
    : pixels_(pixels), data_(new uint8_t[static_cast<size_t>(n * pixels)]), held_(new std::atomic<uint8_t>[static_cast<size_t>(n)]) {
    for (int64_t i = 0; i < n; ++i) held_[static_cast<size_t>(i)].store(0, std::memory_order_relaxed);
}

bool MemoryImageCache::get(int64_t id, uint8_t* px) {
    if (!held_[static_cast<size_t>(id)].load(std::memory_order_acquire)) return false;
    std::memcpy(px, data_.get() + id * pixels_, static_cast<size_t>(pixels_));
    return true;
}

void MemoryImageCache::put(int64_t id, const uint8_t* px) {
    std::memcpy(data_.get() + id * pixels_, px, static_cast<size_t>(pixels_));
    held_[static_cast<size_t>(id)].store(1, std::memory_order_release);
}

namespace {

constexpr char kMagic[8] = {'C', 'N', 'N', 'C', 'I', 'M', 'G', '1'};
constexpr char kEnd[8] = {'C', 'N', 'N', 'C', 'E', 'N', 'D', '1'};
constexpr int64_t kHeader = 32;  // magic, key, n, pixels

struct Fnv {
    uint64_t h = 1469598103934665603ull;
    void add(const void* p, size_t n) {
        for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const unsigned char*>(p)[i]) * 1099511628211ull;
    }
    void add(int64_t v) { add(&v, sizeof v); }
};

bool pread_all(int fd, void* buf, size_t n, int64_t at) {
    for (size_t have = 0; have < n;) {
        ssize_t r = ::pread(fd, static_cast<char*>(buf) + have, n - have, static_cast<off_t>(at + static_cast<int64_t>(have)));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        have += static_cast<size_t>(r);
    }
    return true;
}

bool pwrite_all(int fd, const void* buf, size_t n, int64_t at) {
    for (size_t have = 0; have < n;) {
        ssize_t r = ::pwrite(fd, static_cast<const char*>(buf) + have, n - have, static_cast<off_t>(at + static_cast<int64_t>(have)));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        have += static_cast<size_t>(r);
    }
    return true;
}

}  // namespace

uint64_t image_cache_key(const std::vector<std::string>& files, const ImageFolderOptions& o) {
    Fnv f;
    for (const std::string& p : files) {
        f.add(p.data(), p.size() + 1);  // with its NUL: "ab","c" differs from "a","bc"
        struct stat st {};
        if (::stat(p.c_str(), &st) == 0) {
            f.add(static_cast<int64_t>(st.st_size));
            f.add(static_cast<int64_t>(st.st_mtim.tv_sec));
            f.add(static_cast<int64_t>(st.st_mtim.tv_nsec));
        } else {
            f.add(-1);
        }
    }
    for (int64_t v : {o.height, o.width, static_cast<int64_t>(o.channels), static_cast<int64_t>(o.interpolation),
                      static_cast<int64_t>(o.crop_to_aspect_ratio)})
        f.add(v);
    return f.h;
}

int remove_stale_temporaries(const std::string& target) {
    namespace fs = std::filesystem;
    const fs::path t(target);
    const std::string prefix = "." + t.filename().string() + ".tmp.";
    std::vector<fs::path> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(t.parent_path().empty() ? fs::path(".") : t.parent_path(), ec)) {
        const std::string name = e.path().filename().string();
        if (name.compare(0, prefix.size(), prefix) != 0) continue;
        char* end = nullptr;
        const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
        // A process of that pid may be the writer (or its pid's new owner: then the file waits).
        if (pid <= 0 || *end != '.' || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
        found.push_back(e.path());
    }
    int removed = 0;
    for (const fs::path& p : found) {
        int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) continue;
        // Held: a writer on another machine sharing the folder is still at it.
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::unlink(p.c_str()) == 0) ++removed;
        ::close(fd);
    }
    return removed;
}

DiskImageCache::DiskImageCache(std::string path, const std::vector<std::string>& files, const ImageFolderOptions& o)
    : path_(std::move(path)),
      n_(static_cast<int64_t>(files.size())),
      pixels_(o.height * o.width * o.channels),
      key_(image_cache_key(files, o)),
      held_(new std::atomic<uint8_t>[files.size()]),
      missing_(n_) {
    stale_ = remove_stale_temporaries(path_);
    const int64_t size = kHeader + n_ * pixels_ + static_cast<int64_t>(sizeof kEnd);
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ >= 0) {
        struct stat st {};
        char head[kHeader], end[sizeof kEnd];
        int64_t want[3] = {static_cast<int64_t>(key_), n_, pixels_};
        reading_ = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size && pread_all(fd_, head, sizeof head, 0) &&
                   pread_all(fd_, end, sizeof end, size - static_cast<int64_t>(sizeof end)) && std::memcmp(head, kMagic, 8) == 0 &&
                   std::memcmp(head + 8, want, sizeof want) == 0 && std::memcmp(end, kEnd, sizeof end) == 0;
        if (reading_) return;
        ::close(fd_);
    }
    for (int64_t i = 0; i < n_; ++i) held_[static_cast<size_t>(i)].store(0, std::memory_order_relaxed);
    std::string temp = staged_.stage(path_);
    fd_ = ::open(temp.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX | LOCK_NB);  // a new file: the lock is free; held until fd_ closes
    char head[kHeader];
    std::memcpy(head, kMagic, 8);
    int64_t fields[3] = {static_cast<int64_t>(key_), n_, pixels_};
    std::memcpy(head + 8, fields, sizeof fields);
    if (fd_ < 0 || ::ftruncate(fd_, static_cast<off_t>(size)) != 0 || !pwrite_all(fd_, head, sizeof head, 0))
        throw UserError(path_ + ": cannot write the image cache: " + std::strerror(errno));
}

DiskImageCache::~DiskImageCache() {
    if (fd_ >= 0) ::close(fd_);
}

bool DiskImageCache::get(int64_t id, uint8_t* px) {
    if (!reading_ && !held_[static_cast<size_t>(id)].load(std::memory_order_acquire)) return false;
    if (!pread_all(fd_, px, static_cast<size_t>(pixels_), kHeader + id * pixels_))
        throw UserError(path_ + ": cannot read the image cache: " + std::strerror(errno));
    return true;
}

void DiskImageCache::put(int64_t id, const uint8_t* px) {
    if (reading_ || held_[static_cast<size_t>(id)].load(std::memory_order_acquire)) return;
    if (!pwrite_all(fd_, px, static_cast<size_t>(pixels_), kHeader + id * pixels_))
        throw UserError(path_ + ": cannot write the image cache: " + std::strerror(errno));
    // Marked after the write, so get() never reads a half-written image; a second writer of the
    // same image wrote the same bytes and counts nothing.
    if (held_[static_cast<size_t>(id)].exchange(1, std::memory_order_acq_rel) || --missing_ > 0) return;
    // The last image: the end mark, then the file replaces `path` whole.
    if (!pwrite_all(fd_, kEnd, sizeof kEnd, kHeader + n_ * pixels_))
        throw UserError(path_ + ": cannot write the image cache: " + std::strerror(errno));
    staged_.commit();
}

std::shared_ptr<ImageCache> open_image_cache(const std::string& spec, const std::vector<std::string>& files, const ImageFolderOptions& o,
                                             const std::string& member, std::string& said) {
    const int64_t n = static_cast<int64_t>(files.size()), pixels = o.height * o.width * o.channels;
    if (spec == "none") return nullptr;
    if (spec == "memory") {
        const uint64_t bytes = uint64_t(n) * uint64_t(pixels);
        if (bytes >= memory_limit() / 2)
            throw UserError(fmt::format("{}: cache = memory needs {:.2f} GB for {} images, more than half the memory this process may use; "
                                        "cache = \"path\" keeps them on disk",
                                        member, static_cast<double>(bytes) / 1e9, n));
        said = fmt::format("{}: image cache in memory (up to {:.0f} MB)", member, static_cast<double>(bytes) / 1e6);
        return std::make_shared<MemoryImageCache>(n, pixels);
    }
    auto disk = std::make_shared<DiskImageCache>(spec, files, o);
    const std::string removed = disk->stale() == 0 ? ""
                                : fmt::format("; removed {} temporary file{} of a stopped run", disk->stale(), disk->stale() == 1 ? "" : "s");
    said = fmt::format("{}: image cache {} ({}{})", member, spec, disk->reused() ? "reused" : "writing", removed);
    return disk;
}

}  // namespace cnnc::rt
