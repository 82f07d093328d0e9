// What the training loop does on one of several data-parallel ranks (train/Collective.h), in one
// place, so the loop itself only calls it: each rank takes its contiguous part of every global
// batch, and the ranks sum their gradients and their loss and metric sums, so that every rank
// applies the update a single process would (up to summation order) and sees the same epoch
// figures. In a world of one every call leaves its arguments as they are.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "net/Op.h"
#include "train/Collective.h"
#include "train/GradientBuckets.h"

namespace cnnc::rt {

class DataParallel {
  public:
    explicit DataParallel(Collective& w = rt::world()) : w_(w) {}
    bool active() const { return w_.size() > 1; }
    Collective& world() const { return w_; }
    // This rank's contiguous part of each global batch (of sample ids): the batches it fetches.
    // Some are empty when a batch has fewer samples than there are ranks.
    std::vector<std::vector<int64_t>> local(const std::vector<std::vector<int64_t>>& global) const;
    // The batches a rank plans to fetch: the non-empty ones.
    static std::vector<std::vector<int64_t>> nonempty(std::vector<std::vector<int64_t>> batches);
    // Where this rank's part of a global batch of `size` samples starts in it (StepInfo's
    // first_sample).
    int64_t first_sample(int64_t size) const;
    // Each rank's gradients are those of its mean loss over `local` of the step's `global`
    // samples (zero with none): scaled by local/global and summed over the ranks, they are the
    // gradient of the global batch's mean loss, on every rank. The sums go in buckets that start
    // during the backward pass (train/GradientBuckets.h), of CNNC_MPI_BUCKET_BYTES each (default
    // kBucketBytes; 0: one allreduce after the backward pass). The regularizers' gradient is not in
    // them: the optimizer adds it once, after (Optimizer::step).
    // Before the step's backward pass: what it calls as each stage's gradients are complete.
    GradientsDone start_gradients(const std::vector<Param*>& params, int64_t local, int64_t global);
    // After it: the summed gradients in every trainable param's grad.
    void sum_gradients();
    static constexpr size_t kBucketBytes = 1 << 20;
    // Sums over the ranks, in place: a step's loss and metric sums, an evaluation's.
    void sum(std::vector<double>& values) const;
    // Layers' forward-updated state (BatchNormalization's moving statistics, from each rank's own
    // batches as in Keras without synchronised batch normalization): the mean over the ranks, so
    // that every rank, and the weights rank 0 saves, hold the same.
    void average_state(const std::vector<Param*>& params) const;
    // Throws UserError when this rank's weights differ from rank 0's: they must be identical
    // everywhere, since every rank applies the same update. Checked after each epoch.
    void check_replicas(const std::vector<Param*>& params, int64_t epoch) const;
  private:
    Collective& w_;
    std::unique_ptr<GradientBuckets> buckets_;  // made at the first step
};

}  // namespace cnnc::rt
