// The gradients of a data-parallel step, summed over the ranks in buckets that start while the
// backward pass still runs. The trainable weights are taken in the order backward completes them
// (the last stage's first) and cut into buckets of about `bucket_bytes`; as soon as every gradient
// of the next bucket is complete, its non-blocking sum starts, and each later stage's completion
// lets the started sums advance. So the sum of the last layers' gradients overlaps the backward
// pass of the first ones, and only what is left after it is waited for before the optimizer.
// With bucket_bytes 0 every gradient is in one bucket, started after the backward pass: one
// allreduce, nothing overlapped.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "net/Network.h"
#include "train/Collective.h"

namespace cnnc::rt {

class GradientBuckets {
  public:
    GradientBuckets(Collective& w, const std::vector<Param*>& params, size_t bucket_bytes);
    // The step's gradients will be those of this rank's mean loss over `local` of its `global`
    // samples: each is scaled by local/global (zero with none) so that the sum over the ranks is
    // the gradient of the global batch's mean loss.
    void begin(int64_t local, int64_t global);
    // What the backward pass calls as a stage's gradients are complete (Network's GradientsDone);
    // nothing with bucket_bytes 0.
    GradientsDone on_done();
    // After the backward pass: starts what has not started (every bucket, on a rank that had no
    // samples this step), waits for all, and leaves the sums in every trainable param's grad.
    void finish();
    size_t buckets() const { return buckets_.size(); }

  private:
    struct Bucket {
        size_t begin = 0, end = 0;  // floats of buffer_
        size_t missing = 0;         // its gradients not yet complete this step
    };
    struct Slot {
        Param* param;
        size_t at;      // where its gradient lies in buffer_
        size_t bucket;
        bool filled;    // this step
    };
    void fill(Slot& s);
    // Starts the complete buckets at the head of the queue, in order, so that every rank starts
    // the same sums in the same order whatever the order its stages report in.
    void start_ready();

    Collective& w_;
    size_t bucket_bytes_;
    std::vector<Slot> slots_;
    std::unordered_map<const Param*, size_t> slot_of_;
    std::vector<Bucket> buckets_;
    std::vector<float> buffer_;
    size_t next_ = 0;  // the first bucket not started this step
    float scale_ = 1;
    bool any_ = true;  // this rank has samples this step
};

}  // namespace cnnc::rt
