// An image folder read on demand (image_directory when it streams): background threads decode the
// batches the Trainer planned into a bounded queue ahead of it, so the folder's size does not set
// the memory, and decoding overlaps the training step. A batch holds the same floats a preloaded
// member would (decode_image, then `rescale`), so streamed and preloaded training give the same
// numbers; with a cache, the 8-bit pixels ImageCache keeps.
#pragma once
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/ImageCache.h"
#include "data/ImageFolder.h"
#include "train/Source.h"

namespace cnnc::rt {

struct StreamOptions {
    int threads = 2;        // decoding threads
    int64_t depth = 4;      // batches decoded ahead of the consumer: the queue's bound
    float rescale = 1.f;    // the dataset's `rescale`, applied as Run applies it to loaded samples
};

class ImageStream : public Source {
  public:
    // `files`: the member's images in sample order; `y`: their encoded targets (N, k).
    ImageStream(std::vector<std::string> files, Tensor y, ImageFolderOptions o, StreamOptions s, std::shared_ptr<ImageCache> cache);
    ~ImageStream() override;
    int64_t size() const override { return static_cast<int64_t>(files_.size()); }
    void plan(std::vector<std::vector<int64_t>> batches) override;
    // The next planned batch when `ids` are it (waiting for the decoders if they are behind);
    // otherwise decoded here. A file that does not decode is an error naming it.
    void fetch(const std::vector<int64_t>& ids, Batch& into) override;

  private:
    struct Slot {
        Tensor x;
        std::string error;
        bool ready = false;
    };
    void work();
    void decode_batch(const std::vector<int64_t>& ids, Tensor& x);
    void decode_one(int64_t id, float* dst, std::vector<uint8_t>& bytes);

    std::vector<std::string> files_;
    Tensor y_;
    ImageFolderOptions o_;
    StreamOptions s_;
    std::shared_ptr<ImageCache> cache_;
    int64_t pixels_;

    std::mutex mu_;
    std::condition_variable wake_workers_, wake_consumer_;
    std::vector<std::vector<int64_t>> plan_;
    uint64_t generation_ = 0;   // bumped by plan(): a batch decoded for an older plan is dropped
    size_t next_fetch_ = 0, next_claim_ = 0;
    std::map<size_t, Slot> slots_;  // claimed batches of the current plan, by position
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace cnnc::rt
