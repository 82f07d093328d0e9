// The checked program: what `cnnc check` proves and every later stage consumes. Models are
// expanded (blocks inlined as groups, repeats unrolled), every layer has typed arguments and known
// input and output shapes, and train/evaluate statements point at models and dataset members that
// exist.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "builtins/Builtins.h"
#include "layers/Layer.h"

namespace cnnc {

// A tensor of a model, by id: the output of the leaf layer with that id (>= 0), or model input k
// (id -1 - k). A plain stack is the graph in which every layer reads the tensor before it.
using TensorId = int;
inline TensorId input_tensor(int k) { return -1 - k; }
inline bool is_input(TensorId t) { return t < 0; }
inline int input_index(TensorId t) { return -1 - t; }

// A layer, or a group of layers from a block or augmentation (one summary row, expandable).
struct LayerNode {
    std::string name;  // unique among its siblings: conv2d, conv2d_1, block1_conv1
    std::string type;  // the layer kind ("Conv2D") or the block's name ("vgg_block")
    const LayerKind* kind = nullptr;  // null for a group
    bool augmentation_group = false;  // a group declared with `augmentation`
    BoundArgs args;
    Shape in, out;
    bool shaped = false;  // in/out are known (false after a shape error upstream)
    bool trainable = true;
    std::vector<WeightSpec> weights;
    double flops = 0;
    std::string weights_file;  // a group's `weights = "..."` (pretrained weights, loaded by name)
    std::vector<LayerNode> children;
    SrcLoc loc;
    // The graph (leaf layers only). `id` is the layer's position among the model's leaves, in the
    // order written, which is a topological order: a layer reads only tensors made before it.
    // `inputs` are the tensors it reads, one for most layers, several for a merge (Add,
    // Concatenate); `in` is the first one's shape and `ins` all of them.
    TensorId id = -1;
    std::vector<TensorId> inputs;
    std::vector<Shape> ins;

    bool is_group() const { return kind == nullptr; }
    int64_t param_count() const;      // all weights, children included
    int64_t trainable_count() const;  // trainable weights of trainable layers only (as Keras counts)
    double flop_count() const;
};

// An input of a model: `input(28, 28, 1)` (named "input") or `input image(64, 64, 3)`.
struct ModelInput {
    std::string name;
    Shape shape;
    SrcLoc loc;
};

struct Model {
    std::string name;
    SrcLoc loc;
    Shape input;  // the first input's shape (the only one of a sequential model)
    bool has_input = false;
    std::vector<ModelInput> inputs;
    std::vector<LayerNode> layers;
    // The tensors the model returns, in order: the last layer's unless `output a, b` says otherwise.
    std::vector<TensorId> outputs;
    // Each output's name, in the same order: the name `output a, b` gives it, or the name of the
    // layer that makes it. A multi-output train statement keys its losses by these names.
    std::vector<std::string> output_names;
    bool shaped = false;  // every layer's shape is known
    Shape output(size_t k = 0) const { return outputs.empty() ? input : tensor_shape(outputs[k]); }
    // True when the model is a plain stack: one input, one output, each layer reading the one
    // before. Such a model prints Keras' Sequential summary; any other, the functional one.
    bool is_sequential() const;
    // The leaf layers in id order (blocks flattened).
    std::vector<const LayerNode*> leaves() const;
    Shape tensor_shape(TensorId t) const;
    // The activation the model's output passes through last ("linear" if none): checked against the loss.
    std::string output_activation(size_t k = 0) const;
    int64_t param_count() const;
    int64_t trainable_count() const;
    double flop_count() const;
};

struct DatasetMember {
    std::string name;  // train, validation, test...
    SrcLoc loc;
    const SourceKind* source = nullptr;
    BoundArgs args;
};

struct Dataset {
    std::string name;
    SrcLoc loc;
    std::vector<DatasetMember> members;
    BoundArgs options;
    std::string labels = "";  // "one_hot", "int", "binary" or "" (unspecified)
    int64_t classes = 0;      // for one_hot(k)
    std::vector<std::string> class_names;  // `class_names = [...]`, in label order (empty: not given)
    SrcLoc class_names_loc;
    const DatasetMember* member(const std::string& n) const;
};

struct CallbackSpec {
    const CallbackKind* kind = nullptr;
    BoundArgs args;
    SrcLoc loc;
};

struct NamedCall {  // an optimizer with its bound arguments
    const OptimizerKind* kind = nullptr;
    BoundArgs args;
};

struct DataRef {  // `mnist.train`
    std::string dataset, member;
    SrcLoc loc;
};

// One output's part of a train or evaluate statement: Keras' compile(loss = {...}, loss_weights =
// {...}, metrics = {...}) for that output.
struct OutputTraining {
    std::string output;  // the model's name for it (Model::output_names)
    const LossKind* loss = nullptr;
    BoundArgs loss_args;
    double weight = 1;                 // its loss counts this much in the total
    std::vector<std::string> metrics;  // as the user wrote them: accuracy, acc...
};

// What training and evaluation report, in Keras 3's names: `loss` and the metrics as written for a
// model with one output; `loss`, then `<output>_loss` per output, then `<output>_<metric>` for
// several outputs.
std::vector<std::string> reported_names(const std::vector<OutputTraining>& outputs);

struct TrainSpec {
    std::string model;
    DataRef data;
    bool has_validation = false;
    DataRef validation;
    NamedCall optimizer;
    std::vector<OutputTraining> outputs;  // one per model output, in the model's order
    int64_t epochs = 1;
    int64_t batch_size = 32;
    std::vector<CallbackSpec> callbacks;
    std::vector<std::string> unfreeze;  // layer names made trainable for this statement (fine-tuning)
    BoundArgs fields;
    SrcLoc loc;
    // What the progress line and history will report: loss, metrics, then val_ versions.
    std::vector<std::string> reported() const;
};

struct EvaluateSpec {
    std::string model;
    DataRef data;
    std::vector<OutputTraining> outputs;  // its own loss = ...; empty: its model's training's
    BoundArgs fields;
    SrcLoc loc;
};

struct Program {
    std::vector<Model> models;
    std::vector<Dataset> datasets;
    std::vector<TrainSpec> trains;
    std::vector<EvaluateSpec> evaluates;
    const Model* model(const std::string& n) const;
    const Dataset* dataset(const std::string& n) const;
};

}  // namespace cnnc
