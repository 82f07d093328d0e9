// A network of Ops: a stack, or a directed acyclic graph whose stages read the outputs of stages
// before them or the network's inputs. Activations and gradients live in one arena planned by
// liveness (net/MemoryPlan.h), sized once for the largest batch so no step allocates.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/KerasGroup.h"
#include "net/MemoryPlan.h"
#include "net/Op.h"

namespace cnnc::rt {

// Called by backward as soon as a stage's weight gradients are complete, with that stage's params
// (the last stage's first): data-parallel training starts summing them over the ranks while the
// stages before still run (train/GradientBuckets.h).
using GradientsDone = std::function<void(std::vector<Param>& params)>;

class Network {
  public:
    // A tensor of the network, as the compiler's TensorId: the output of stage k (k >= 0), or
    // network input j (input(j) == -1 - j).
    static int input(int j) { return -1 - j; }

    struct Stage {
        std::string name;  // "conv2d", "vgg16/block1_conv1"
        std::unique_ptr<Op> op;
        Dims out_shape;           // per sample
        std::vector<int> inputs;  // the tensors it reads, in the op's order
    };
    // Bytes per sample that the buffers of forward (and, when training, backward) take.
    struct Memory {
        int64_t activations = 0;  // every stage's output its own buffer (a view takes none)
        int64_t gradients = 0;    // every gradient, and the scratch where a tensor fans out, its own buffer
        int64_t planned = 0;      // the arena: buffers share memory once their tensors are dead
        int64_t naive() const { return activations + gradients; }
    };

    explicit Network(Dims input_shape) : input_shapes_{std::move(input_shape)}, outputs_{input(0)} {}
    int add_input(Dims shape);  // another input; returns its tensor id

    // A stage reading the stage added before it (the first reads input 0): a stack. Returns its id.
    int add(std::string name, std::unique_ptr<Op> op, Dims out_shape);
    // A stage reading `inputs`, each a tensor made before it (so the stage order is topological).
    int add(std::string name, std::unique_ptr<Op> op, Dims out_shape, std::vector<int> inputs);
    // The tensors forward returns, in order: the last stage's until set.
    void set_outputs(std::vector<int> outputs);

    // Plans the buffers for batches up to `max_batch` and, for training, compiles the backward
    // kernels; call after the last add().
    void prepare(int64_t max_batch, bool training);

    // Runs the batch (batch axis first) from input 0 and returns output 0. The view stays valid
    // until the next forward.
    View forward(const View& x, const StepInfo& s);
    // Back-propagates dL/d(output 0) from the last forward; fills every trainable param's grad.
    // With `d_out_is_logits`, the gradient is with respect to output 0's pre-activation
    // (output_owns_activation() must hold).
    void backward(const View& d_out, bool d_out_is_logits, const StepInfo& s);
    // The same for every input and every output (`logits`: one flag per output). `done`, when
    // set, hears of each stage whose params' gradients are complete.
    std::vector<View> forward_all(const std::vector<View>& xs, const StepInfo& s);
    void backward_all(const std::vector<View>& d_outs, const std::vector<bool>& logits, const StepInfo& s,
                      const GradientsDone& done = {});

    // The buffers' bytes per sample, planned as prepare(…, training) would place them.
    Memory memory(bool training) const;

    std::vector<Param*> params();
    const Dims& input_shape() const { return input_shapes_.front(); }
    const std::vector<Dims>& input_shapes() const { return input_shapes_; }
    const std::vector<int>& outputs() const { return outputs_; }
    // True when output k is made by a stage that applies the model's final activation and that
    // nothing else reads, so a fused loss may hand it dL/dlogits.
    bool output_owns_activation(size_t k = 0) const;
    // After prepare(…, true): stage k's backward receives dL/dz, because the only reader of its
    // output applies its activation's derivative (Op::output_activation).
    bool receives_preactivation_gradient(size_t k) const { return k < plan_.preactivated.size() && plan_.preactivated[k]; }
    // After prepare(): the pooling stage whose work stage k does (Op::set_output_pooling), or -1.
    // Stage k's output is then that stage's shape, and the pooling stage runs nothing.
    int pooling_done_by(size_t k) const { return k < plan_.pools.size() ? plan_.pools[k] : -1; }
    // Before prepare(): whether a stage may do the pooling after it (on by default); the tests
    // and the benchmark compare the two plans.
    void set_pool_fusion(bool on) { pool_fusion_ = on; }
    const std::vector<Stage>& stages() const { return stages_; }
    // The model's and its layers' groups in Keras 3's weights file, in Keras' order (the compiler
    // fills it; a weights file written from the params alone has only their groups).
    std::vector<KerasGroup> keras_groups;

  private:
    // Where backward writes dL/dx for one input of a stage.
    struct Slot {
        enum Kind { None, Direct, Scratch } kind = None;  // Scratch: written there, then added into the tensor's gradient
        int buffer = -1;                                  // the gradient buffer (Direct) or the scratch buffer
    };
    // What the graph and the trainable flags decide, before any memory is placed. Buffers count
    // floats per sample; stage k runs forward at step k and backward at step 2S-1-k (S stages).
    struct Schedule {
        std::vector<int> root;         // per stage: the stage whose buffer holds its output (itself unless a view), or an input
        std::vector<int> act, grad;    // per stage: its activation and gradient buffers (-1: none)
        std::vector<int> external;     // per stage: the output whose d_out is its gradient as given (-1: none)
        std::vector<bool> runs;        // its backward runs
        std::vector<bool> needs_dx;    // a trainable param lies upstream of one of its inputs
        std::vector<std::vector<Slot>> slots;
        std::vector<int> out_grad;     // per output: 0 nothing, 1 copied into its gradient buffer, 2 added
        // The backward fusion of Op::output_activation: per stage, the activation whose derivative
        // it applies to its dL/dx ("" none), and whether its own dy arrives as dL/dz.
        std::vector<std::string> input_act;
        std::vector<bool> preactivated;
        // The pooling fusion of Op::tiled_max_pooling: per stage, the pooling stage whose work it
        // does (-1 none). That pooling stage passes through (its root is the producer).
        std::vector<int> pools;
        std::vector<PlannedBuffer> buffers;
        int64_t activation_floats = 0, gradient_floats = 0;
    };
    Schedule schedule(bool training) const;
    // Stage k's output is its input's buffer: a view, or, planned for inference, absorbed.
    bool passes_through(size_t k, bool training) const {
        return stages_[k].op->is_view() || (!training && stages_[k].op->absorbed());
    }
    // The same in a plan, where a pooling done by the stage before passes through too.
    static bool passes_through(const Schedule& p, size_t k) { return p.root[k] != static_cast<int>(k); }
    // Stage k's output shape per sample in a plan: its pooling's where it does one.
    const Dims& out_shape(const Schedule& p, size_t k) const {
        return p.pools[k] >= 0 ? stages_[static_cast<size_t>(p.pools[k])].out_shape : stages_[k].out_shape;
    }
    View tensor_view(int t, const std::vector<View>& xs) const;

    std::vector<Dims> input_shapes_;
    std::vector<Stage> stages_;
    std::vector<int> outputs_;
    bool outputs_set_ = false;  // else the last stage added
    bool pool_fusion_ = true;
    // Set by prepare().
    Schedule plan_;
    bool training_ = false;  // the plan's
    std::vector<int64_t> offsets_;  // per buffer, in floats
    Tensor arena_;
    int64_t max_batch_ = 0, batch_ = 0;
    // Per stage, from the last forward (and reused by backward, so no step allocates).
    std::vector<std::vector<View>> in_views_;
    std::vector<View> out_views_, dx_views_;
    std::vector<const View*> dx_ptrs_;
};

}  // namespace cnnc::rt
