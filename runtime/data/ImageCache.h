// Decoded images kept between epochs (and, on disk, between runs), as tf.data's cache(): each image
// at the model's size as 8-bit pixels, so a cache holds a quarter of what the same images take as
// floats. Storing bytes rounds each resized pixel to the nearest integer: a streamed member with a
// cache reads those integers in every epoch, the first included, so its numbers do not depend on
// whether the cache was already filled.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/ImageFolder.h"
#include "io/AtomicFile.h"

namespace cnnc::rt {

class ImageCache {
  public:
    virtual ~ImageCache() = default;
    // Copies image `id`'s pixels into `px` (`pixels()` bytes) when the cache holds it.
    virtual bool get(int64_t id, uint8_t* px) = 0;
    // Keeps image `id`'s pixels. Safe to call from several threads for different ids.
    virtual void put(int64_t id, const uint8_t* px) = 0;
};

// cache = memory: n x pixels bytes, touched (and so resident) only as images arrive. The bound is
// that product; the caller refuses it when it exceeds the memory the process may use.
class MemoryImageCache : public ImageCache {
  public:
    MemoryImageCache(int64_t n, int64_t pixels);
    bool get(int64_t id, uint8_t* px) override;
    void put(int64_t id, const uint8_t* px) override;

  private:
    int64_t pixels_;
    std::unique_ptr<uint8_t[]> data_;
    std::unique_ptr<std::atomic<uint8_t>[]> held_;
};

// cache = "path": one file holding every image. A complete file whose key matches (the image files'
// paths, sizes and modification times, in order, and the decode options) is read; otherwise the
// images are written to a temporary file beside it as they are decoded, which replaces `path`
// (fsynced, renamed) once every image is in it. A run stopped before that leaves the old file, or
// none: a partly written cache is never read. A file of the wrong size or header is rebuilt. The
// temporary file is locked while written; one a killed run left is removed by the next
// (remove_stale_temporaries).
class DiskImageCache : public ImageCache {
  public:
    DiskImageCache(std::string path, const std::vector<std::string>& files, const ImageFolderOptions& o);
    ~DiskImageCache() override;
    bool get(int64_t id, uint8_t* px) override;
    void put(int64_t id, const uint8_t* px) override;
    bool reused() const { return reading_; }  // an existing cache file was found valid
    int stale() const { return stale_; }       // temporary files of stopped runs it removed

  private:
    std::string path_;
    int64_t n_, pixels_;
    uint64_t key_;
    int fd_ = -1;
    bool reading_ = false;
    int stale_ = 0;
    StagedFiles staged_;  // the file being written, until every image is in it
    std::unique_ptr<std::atomic<uint8_t>[]> held_;
    std::atomic<int64_t> missing_;
};

// Removes the temporary files a killed writer of cache `target` left beside it (StagedFiles names
// them ".<name>.tmp.<pid>.<n>"), and returns how many. One is removed only when no process of its
// pid runs on this machine and no one holds the lock its writer takes on it (flock, which the
// kernel drops when the writer dies): a live writer's file, on this machine or another sharing
// the folder, stays.
int remove_stale_temporaries(const std::string& target);

// The cache a member's `cache` argument names: null for "none", a MemoryImageCache for "memory"
// (an error naming `member` when its n x pixels bytes exceed half the memory the process may use),
// else a DiskImageCache at that path. `said` receives what to tell the user (the file, and whether
// it was reused).
std::shared_ptr<ImageCache> open_image_cache(const std::string& spec, const std::vector<std::string>& files, const ImageFolderOptions& o,
                                             const std::string& member, std::string& said);

// The key DiskImageCache compares: a hash of the files' paths, sizes and mtimes and the options.
uint64_t image_cache_key(const std::vector<std::string>& files, const ImageFolderOptions& o);

}  // namespace cnnc::rt
