// The runtime's view of one compiled layer: it runs kernels on tensors and owns the layer's
// weights. Ops are made by the compiler's lowering (compiler/src/lower/); the runtime never knows
// which layer an Op is.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tensor/Tensor.h"

namespace cnnc::rt {

// A layer's variable with its gradient (overwritten by each backward pass) and the L1/L2
// penalties of its regularizer.
struct Param {
    std::string name;  // the layer path and the weight: "vgg16/block1/block1_conv1/kernel"
    // Where Keras 3's `.weights.h5` keeps it: "layers/conv2d_1/vars/0" (layers named by class,
    // numbered per container, as keras.saving does; compiler/src/engine/KerasLayout.h maps blocks).
    std::string keras3_path;
    Tensor value, grad;
    std::string initializer;
    bool trainable = true;
    // Keras' non-trainable variable that forward updates (BatchNormalization's moving statistics):
    // never trainable, not even when its layer is unfrozen; saved and restored like a weight.
    bool state = false;
    double l1 = 0, l2 = 0;
};

struct StepInfo {
    bool training = false;
    uint64_t seed = 0;  // the run's seed
    int64_t step = 0;   // global step: random layers draw a fresh mask/transform per step
    // Where this batch starts in the step's global batch (data-parallel training runs a part of
    // it per process; 0 otherwise): random layers draw by the global sample index,
    // first_sample + the index in the batch, so a sample's mask and transform do not depend on
    // the number of processes.
    int64_t first_sample = 0;
    // Set by the network on a forward it planned for inference: ops absorbed by the op before
    // them (absorbed()) are skipped, and that op applies them (compiler/src/lower/Fold.h).
    bool folded = false;
};

class Op {
  public:
    virtual ~Op() = default;
    // y = f(x). x and y hold a whole batch (batch axis first).
    virtual void forward(const View& x, const View& y, const StepInfo& s) = 0;
    // Given dL/dy, writes dL/dx (when dx is non-null) and every trainable param's grad. With
    // `dy_is_logits`, dy is already the gradient with respect to the layer's pre-activation
    // (a fused softmax/sigmoid cross-entropy), so the activation's derivative is skipped.
    virtual void backward(const View& x, const View& y, const View& dy, const View* dx, bool dy_is_logits,
                          const StepInfo& s) = 0;
    // The interface the network calls, for ops that read several tensors (merges: Add,
    // Concatenate): `xs` holds one view per input, in order, and `dxs` one gradient per input,
    // null where dL/dx is not wanted. The defaults pass the only input to forward() and
    // backward() above, so an op of one input overrides only those.
    virtual void forward_all(const std::vector<View>& xs, const View& y, const StepInfo& s) { forward(xs.at(0), y, s); }
    virtual void backward_all(const std::vector<View>& xs, const View& y, const View& dy, const std::vector<const View*>& dxs,
                              bool dy_is_logits, const StepInfo& s) {
        backward(xs.at(0), y, dy, dxs.at(0), dy_is_logits, s);
    }
    // Called once before training: compile what backward() needs (dL/dx only when `need_dx`:
    // for some input, when the op has several).
    virtual void prepare_backward(bool need_dx) { (void)need_dx; }
    // True for Flatten/Reshape: the output is the input under another shape; no kernel runs.
    virtual bool is_view() const { return false; }
    // True when the op before it has taken this op in, for inference (a BatchNormalization folded
    // into its convolution): a network planned for inference then treats it as a view.
    virtual bool absorbed() const { return false; }
    // True when this op applies the model's final activation (so a fused loss may skip it).
    virtual bool owns_activation() const { return false; }

    std::vector<Param> params;
};

}  // namespace cnnc::rt
