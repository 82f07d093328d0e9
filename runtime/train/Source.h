// Where the Trainer's samples come from. The Trainer decides which samples make each batch (the
// (seed, epoch) shuffle, the partial last batch, a process's share of a global batch); a Source only
// delivers them. An in-memory source copies rows; a streaming one decodes ahead of the consumer,
// which is why it is told the epoch's batches before the first is fetched.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/Tensor.h"

namespace cnnc::rt {

// One mini-batch as the network reads it: a tensor per model input and a target tensor per model
// output (encoded for its loss), each with `size` rows.
struct Batch {
    std::vector<Tensor> x, y;
    int64_t size = 0;
};

class Source {
  public:
    virtual ~Source() = default;
    virtual int64_t size() const = 0;  // samples
    // The batches this process will fetch next, in order, as sample indices. A streaming source
    // decodes ahead of the consumer; an in-memory one has nothing to prepare.
    virtual void plan(std::vector<std::vector<int64_t>> /*batches*/) {}
    // Fills `into` with samples `ids`, in that order (each tensor (ids.size(), ...)).
    virtual void fetch(const std::vector<int64_t>& ids, Batch& into) = 0;
};

// Samples in memory: inputs (N, ...), one tensor per model input, and targets (N, k) encoded for
// the loss (one-hot rows, class indices, 0/1 or values), one per output.
struct Samples {
    std::vector<Tensor> x, y;
    int64_t size() const { return x.empty() || x[0].shape().empty() ? 0 : x[0].shape()[0]; }
};

// Rows `ids` of `t` (samples along axis 0) into `out`, resized to (ids.size(), t's sample shape...).
void gather_rows(const Tensor& t, const std::vector<int64_t>& ids, Tensor& out);

// A Source over Samples it borrows (they must outlive it).
class MemorySource : public Source {
  public:
    explicit MemorySource(const Samples& s) : s_(s) {}
    int64_t size() const override { return s_.size(); }
    void fetch(const std::vector<int64_t>& ids, Batch& into) override;

  private:
    const Samples& s_;
};

}  // namespace cnnc::rt
