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

// A max pooling whose windows tile its input: stride equal to the window, no padding, so each
// input cell belongs to one window at most (the usual MaxPooling2D((2, 2))). Zero extents: none.
struct TiledMaxPool {
    int pw = 0, ph = 0;
    explicit operator bool() const { return pw > 0 && ph > 0; }
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
    // Called by every prepare(), after the fusions below are set, for every stage that runs:
    // compile what forward() needs (an op whose kernel depends on no fusion may do it earlier).
    virtual void prepare_forward() {}
    // Called once before training: compile what backward() needs (dL/dx only when `need_dx`:
    // for some input, when the op has several).
    virtual void prepare_backward(bool need_dx) { (void)need_dx; }

    // A fusion across two stages of backward, which the network arranges (Network::schedule):
    // where a stage's output has one reader, that reader may multiply the dL/dx it computes by the
    // derivative of the activation the stage applied last, taken from its own input (which is that
    // activation's output). The stage then receives dL/dz, its pre-activation gradient, and its
    // backward kernels never read y: for cats vs dogs' first convolution, 130 MB a step less (a
    // max pooling reads y anyway, to find each window's maximum).
    //
    // The activation this op applies last, by Keras' canonical name, when its derivative is a
    // function of the output alone ("relu", "sigmoid"; never softmax, nor one needing its input);
    // "" for none.
    virtual std::string output_activation() const { return ""; }
    // Whether this op can apply `act`'s derivative to its dL/dx (its only input being `act`'s output).
    virtual bool accepts_input_activation(const std::string& act) const { (void)act; return false; }
    // Set before prepare_backward: the activation whose derivative backward applies to dL/dx
    // ("" for none; only one accepts_input_activation took).
    virtual void set_input_activation(const std::string& act) { (void)act; }
    // Set before prepare_backward: every backward's dy is dL/dz (backward's dy_is_logits is then
    // true), so the op may prepare kernels that never read y.
    virtual void set_preactivation_gradient(bool on) { (void)on; }
    // A fusion across two stages of forward and of backward, which the network arranges for
    // training and inference alike (Network::schedule): where a tiled max pooling is the only
    // reader of a stage's output, that stage pools its output as it makes it, and writes the
    // pooled tensor alone. Its y and dy are then the pooling's (smaller) output and gradient, and
    // its backward routes each window's gradient to the window's first maximum. The pooling
    // stage runs nothing. The full-size output never reaches memory: for MNIST's first
    // convolution, 5.5 MB a step written and read four times less.
    //
    // The reader's half: the window, when this op is a tiled max pooling (and nothing else).
    virtual TiledMaxPool tiled_max_pooling() const { return {}; }
    // The producer's half: whether it can pool its output by `w`.
    virtual bool accepts_output_pooling(const TiledMaxPool& w) const { (void)w; return false; }
    // Set by every prepare(), before prepare_forward: the pooling this op applies (none: zeros).
    virtual void set_output_pooling(const TiledMaxPool& w) { (void)w; }
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
