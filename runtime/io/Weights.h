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
};

// The file's layout and every array's shape; no array data. Every error names the file (missing,
// not HDF5, not in Keras' layout).
WeightsFile read_weights(const std::string& path);

// Saves params named "<layer path>/<weight>" (as the engine names them). A path ending in
// `.weights.h5` gets Keras 3's layout (each param at its keras3_path, as keras.Model.save_weights
// writes it); any other, Keras 2's (layer_names / weight_names), which Keras reads from `.h5`. Each top-level layer
// (the first component of the path) is one Keras layer group; a block's inner weights are named by
// their leaf layer inside it ("vgg16" holds "block1_conv1/kernel:0"), as in a nested Keras model.
// The file is built in memory and written atomically; with `batch`, it is staged there and
// replaced only at the batch's commit (with the other outputs of the same training).
void save_weights(const std::string& path, const std::vector<Param*>& params, StagedFiles* batch = nullptr);

// Reads the arrays of file layer `layer` into `params` (in order), checking count and shapes
// first; errors name the file, the layer and both shapes.
void assign_layer(const std::string& path, const WeightsFile& f, const std::string& layer, const std::vector<Param*>& params);

}  // namespace cnnc::rt
