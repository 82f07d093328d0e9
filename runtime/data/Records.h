// Samples stored as fixed-size records in one uncompressed file (a .npy array, an IDX image file),
// read at random while training (docs/DATA.md): a data set larger than memory trains, and each
// process reads only the samples it is handed (an MPI rank its shard).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/Source.h"

namespace cnnc::rt {

// Where the records are: record i's `item` x product(sample) bytes start at offset + i x that.
struct RecordLayout {
    std::string path;
    int64_t count = 0;  // records (samples)
    Dims sample;        // one record's shape
    uint64_t offset = 0;
    int item = 1;       // bytes per value
    // `n` values from `p` into `dst`, each as the whole-file reader converts it, so streamed and
    // preloaded samples are equal.
    void (*to_floats)(const unsigned char* p, int64_t n, float* dst) = nullptr;
    // Why the file cannot be read at random (a gzipped IDX file), or "" when it can.
    std::string unseekable;
    uint64_t float_bytes() const { return static_cast<uint64_t>(count) * static_cast<uint64_t>(product(sample)) * sizeof(float); }
};

// A member read from its records batch by batch with pread: nothing of the file is held but the
// batch being filled. plan() asks the kernel to read the next batch's records ahead
// (posix_fadvise), so the disk works while the step computes.
class RecordStream : public Source {
  public:
    // `records`: the file's record of each of the member's samples, in order (its split and
    // shuffle); `y`: their encoded targets (N, k); `rescale`: the dataset's, as Run applies it to
    // loaded samples.
    RecordStream(RecordLayout x, std::vector<int64_t> records, Tensor y, float rescale);
    ~RecordStream() override;
    RecordStream(const RecordStream&) = delete;
    RecordStream& operator=(const RecordStream&) = delete;
    int64_t size() const override { return static_cast<int64_t>(records_.size()); }
    void plan(std::vector<std::vector<int64_t>> batches) override;
    void fetch(const std::vector<int64_t>& ids, Batch& into) override;

  private:
    void advise(size_t batch) const;  // the kernel reads batch `batch` of the plan ahead

    RecordLayout x_;
    std::vector<int64_t> records_;
    Tensor y_;
    float rescale_;
    int fd_ = -1;
    size_t record_bytes_;
    std::vector<unsigned char> buf_;
    std::vector<std::vector<int64_t>> plan_;
    size_t next_ = 0;  // the planned batch fetch expects next
};

}  // namespace cnnc::rt
