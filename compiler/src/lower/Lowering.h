// Lowering: a checked layer (sema/Program.h) becomes a runtime Op that runs kernels, which it names
// by KernelSpec and gets from the KernelCache. What the ops share is here; each family's ops are in
// its folder's Op.cpp (compiler/src/layers/<family>/), beside its records and its Halide builders;
// layers/LayerList.def lists both, so a layer without a lowering is a link error. No libHalide
// here: `cnnc build` executables link these.
#pragma once
#include <memory>
#include <string>

#include "kernel/Kernel.h"
#include "net/Op.h"
#include "sema/Program.h"

namespace cnnc::engine {

struct LowerContext {
    const LayerNode& node;  // shaped, with bound arguments and weight specs
    KernelCache& cache;
    std::string path;  // "vgg16/block1/block1_conv1": names its params
};

using LowerFn = std::unique_ptr<rt::Op> (*)(const LowerContext&);
LowerFn lowering_for(const LayerKind& kind);

// The layer's activation by Keras' canonical name ("swish" for "silu"; "linear" when it has none).
std::string layer_activation(const LayerNode& l);
// The activation a Conv/Dense kernel fuses: layer_activation, or "linear" when that one's
// derivative needs its input (activation_traits(act).needs_input); it then runs as activation_stage after it.
std::string fused_activation(const LayerNode& l);
// `act` itself where a reader of the output can apply its derivative from that output alone
// (rt::Op::output_activation): elementwise, determined by y, and not "linear" (nothing to apply).
// "" otherwise.
std::string derivative_from_output(const std::string& act);
// That separate Activation stage after a layer whose activation is not fused; null otherwise.
std::unique_ptr<rt::Op> activation_stage(const LowerContext& ctx);

// The layer's weights as runtime params (shapes, initializers, trainable and state flags, regularizer
// penalties from kernel_regularizer/bias_regularizer/embeddings_regularizer).
std::vector<rt::Param> make_params(const LowerContext& c);
// Sets p's L1/L2 penalties from a regularizer argument's value (None: none). For a weight whose
// regularizer argument is not named after it (DepthwiseConv2D's "kernel": depthwise_regularizer).
void regularizer_penalties(const Value& reg, rt::Param& p);
// Whether any of the op's params is trainable (skip weight-gradient kernels otherwise).
bool any_trainable(const rt::Op& op);

}  // namespace cnnc::engine
