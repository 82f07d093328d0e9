// Weights files in Keras' HDF5 layout (the layout of keras.Model.save_weights("x.h5") and of the
// published application weights such as VGG16's `notop` file): a root attribute `layer_names`;
// one group per layer with an attribute `weight_names` ("conv2d/kernel:0", ...) naming its
// datasets; kernels in Keras' layouts ((k_h, k_w, C_in, F), (in, out)). Written atomically.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/AtomicFile.h"
#include "net/KerasGroup.h"
#include "net/Op.h"

namespace cnnc::rt {

struct OpenWeightsFile;  // the HDF5 file, open while any StoredArray of it lives

// An array in a weights file: its declared shape, read only when a model asks for it (after its
// shape was checked against the model's, so a file declaring a huge array costs nothing).
struct StoredArray {
    Dims dims;
    std::string dataset;  // its path in the file
    std::shared_ptr<const OpenWeightsFile> file;
    const Dims& shape() const { return dims; }
    // Reads the array into `into`, which must have shape(). Errors name the file and `variable`:
    // unreadable data, or a NaN or infinite value.
    void read_into(Tensor& into, const std::string& variable) const;
    // A scalar integer (an optimizer's `iterations`: int64 as TensorFlow saves it, int32 from JAX).
    int64_t read_integer(const std::string& variable) const;
};

// One layer's arrays, in the file's order (kernel, bias...).
struct LayerArrays {
    std::vector<std::string> names;  // "block1_conv1/kernel:0"
    std::vector<StoredArray> arrays;
};

struct WeightsFile {
    bool keras3 = false;  // Keras 3's `.weights.h5` layout: arrays by path ("layers/dense/vars/0")
    std::vector<std::string> layer_order;
    std::map<std::string, LayerArrays> layers;
    std::map<std::string, StoredArray> by_path;  // keras3: every dataset under its full path
    std::string optimizer_name;                  // keras3: `optimizer/vars`' name attribute (Keras >= 3.6), "" without
};

// The file's layout and every array's shape; no array data. Every error names the file (missing,
// not HDF5, not in Keras' layout).
WeightsFile read_weights(const std::string& path);

// An optimizer's state as Keras 3 saves it (`optimizer/vars/<i>`), in the order of its
// `variables` (keras/src/optimizers/base_optimizer.py): iterations, learning_rate, then the
// slots that build() adds, per trainable variable (train/KerasOptimizer.h makes one).
struct OptimizerVars {
    std::string name;  // "adam": the group's `name` attribute
    int64_t iterations = 0;
    float learning_rate = 0;
    std::vector<const Tensor*> slots;
};

// What Keras saves besides the variables: every saveable's group (net/KerasGroup.h; empty: only
// those the params name) and the optimizer's state, when there is one.
struct KerasState {
    std::vector<KerasGroup> groups;
    const OptimizerVars* optimizer = nullptr;
};

// Saves params named "<layer path>/<weight>" (as the engine names them). A path ending in
// `.weights.h5` gets Keras 3's layout: each param at its keras3_path, every group of `keras`
// (weightless layers' too) with its `name`, and the optimizer's state; any other, Keras 2's
// (layer_names / weight_names, each layer's trainable weights first), which Keras reads from
// `.h5`. docs/WEIGHTS.md has both, with the Keras source behind them. The file is built in
// memory and written atomically; with `batch`, it is staged there and replaced only at the
// batch's commit (with the other outputs of the same training).
void save_weights(const std::string& path, const std::vector<Param*>& params, StagedFiles* batch = nullptr, const KerasState& keras = {});

// Reads the arrays of file layer `layer` into `params` (in order), checking count and shapes
// first; errors name the file, the layer and both shapes.
void assign_layer(const std::string& path, const WeightsFile& f, const std::string& layer, const std::vector<Param*>& params);

}  // namespace cnnc::rt
