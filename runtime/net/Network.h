// A sequential network of Ops with its activation and gradient buffers, sized once for the
// largest batch so no step allocates.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "net/Op.h"

namespace cnnc::rt {

class Network {
  public:
    struct Stage {
        std::string name;  // "conv2d", "vgg16/block1_conv1"
        std::unique_ptr<Op> op;
        Dims out_shape;  // per sample
    };
    explicit Network(Dims input_shape) : input_shape_(std::move(input_shape)) {}

    void add(std::string name, std::unique_ptr<Op> op, Dims out_shape);
    // Sizes the buffers for batches up to `max_batch` and, for training, compiles the backward
    // kernels; call after the last add().
    void prepare(int64_t max_batch, bool training);

    // Runs the batch (batch axis first); the returned view stays valid until the next forward.
    View forward(const View& x, const StepInfo& s);
    // Back-propagates dL/d(output) from the last forward; fills every trainable param's grad.
    void backward(const View& d_out, bool d_out_is_logits, const StepInfo& s);

    std::vector<Param*> params();
    const Dims& input_shape() const { return input_shape_; }
    bool last_owns_activation() const { return !stages_.empty() && stages_.back().op->owns_activation(); }
    const std::vector<Stage>& stages() const { return stages_; }

  private:
    Dims input_shape_;
    std::vector<Stage> stages_;
    std::vector<Tensor> acts_, grads_;  // per stage output
    std::vector<View> in_views_, out_views_;
    std::vector<bool> needs_dx_;
    int64_t max_batch_ = 0;
};

}  // namespace cnnc::rt
