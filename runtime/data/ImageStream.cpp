#include "data/ImageStream.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "Error.h"

namespace cnnc::rt {

ImageStream::ImageStream(std::vector<std::string> files, Tensor y, ImageFolderOptions o, StreamOptions s, std::shared_ptr<ImageCache> cache)
    : files_(std::move(files)), y_(std::move(y)), o_(o), s_(s), cache_(std::move(cache)), pixels_(o.height * o.width * o.channels) {
    for (int t = 0; t < std::max(1, s_.threads); ++t) threads_.emplace_back([this] { work(); });
}

ImageStream::~ImageStream() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    wake_workers_.notify_all();
    for (auto& t : threads_) t.join();
}

void ImageStream::plan(std::vector<std::vector<int64_t>> batches) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        plan_ = std::move(batches);
        ++generation_;
        next_fetch_ = next_claim_ = 0;
        slots_.clear();
    }
    wake_workers_.notify_all();
}

// One image as a preloaded member holds it. With a cache, the image's pixels rounded to bytes (as
// the cache keeps them) in every epoch, the first included.
void ImageStream::decode_one(int64_t id, float* dst, std::vector<uint8_t>& bytes) {
    const std::string& path = files_[static_cast<size_t>(id)];
    std::string why;
    if (!cache_ || !cache_->get(id, bytes.data())) {
        if (!decode_image(path, o_, dst, why)) throw UserError(path + ": cannot decode image (" + why + ")");
        if (!cache_) {
            if (s_.rescale != 1.f)
                for (int64_t i = 0; i < pixels_; ++i) dst[i] *= s_.rescale;
            return;
        }
        for (int64_t i = 0; i < pixels_; ++i) bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(std::lround(std::clamp(dst[i], 0.f, 255.f)));
        cache_->put(id, bytes.data());
    }
    for (int64_t i = 0; i < pixels_; ++i) dst[i] = static_cast<float>(bytes[static_cast<size_t>(i)]);
    if (s_.rescale != 1.f)
        for (int64_t i = 0; i < pixels_; ++i) dst[i] *= s_.rescale;
}

void ImageStream::decode_batch(const std::vector<int64_t>& ids, Tensor& x) {
    x.resize({static_cast<int64_t>(ids.size()), o_.height, o_.width, o_.channels});
    std::vector<uint8_t> bytes(cache_ ? static_cast<size_t>(pixels_) : 0);
    for (size_t i = 0; i < ids.size(); ++i) {
        if (ids[i] < 0 || ids[i] >= size()) throw std::logic_error("internal: sample " + std::to_string(ids[i]) + " of " + std::to_string(size()));
        decode_one(ids[i], x.data() + static_cast<int64_t>(i) * pixels_, bytes);
    }
}

// A decoding thread: claims the next planned batch while fewer than `depth` are decoded or being
// decoded ahead of the consumer, decodes it without the lock, and queues it.
void ImageStream::work() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        wake_workers_.wait(lock, [&] { return stop_ || (next_claim_ < plan_.size() && next_claim_ < next_fetch_ + static_cast<size_t>(s_.depth)); });
        if (stop_) return;
        const size_t k = next_claim_++;
        const uint64_t gen = generation_;
        std::vector<int64_t> ids = plan_[k];
        slots_[k];
        lock.unlock();
        Slot done;
        try {
            decode_batch(ids, done.x);
        } catch (const std::exception& e) {
            done.error = e.what();
        }
        done.ready = true;
        lock.lock();
        if (gen != generation_) continue;  // plan() replaced the plan meanwhile
        slots_[k] = std::move(done);
        wake_consumer_.notify_all();
    }
}

void ImageStream::fetch(const std::vector<int64_t>& ids, Batch& into) {
    into.x.resize(1);
    into.y.resize(1);
    into.size = static_cast<int64_t>(ids.size());
    std::unique_lock<std::mutex> lock(mu_);
    if (next_fetch_ < plan_.size() && plan_[next_fetch_] == ids) {
        const size_t k = next_fetch_;
        if (next_claim_ <= k) {  // no thread has it yet (depth 0, or the threads are stopping): take it here
            next_claim_ = k + 1;
            lock.unlock();
            decode_batch(ids, into.x[0]);
            lock.lock();
        } else {
            wake_consumer_.wait(lock, [&] { return slots_[k].ready; });
            Slot slot = std::move(slots_[k]);
            slots_.erase(k);
            if (!slot.error.empty()) throw UserError(slot.error);
            into.x[0] = std::move(slot.x);
        }
        ++next_fetch_;
        lock.unlock();
        wake_workers_.notify_all();
    } else {
        lock.unlock();
        decode_batch(ids, into.x[0]);
    }
    gather_rows(y_, ids, into.y[0]);
}

}  // namespace cnnc::rt
