// Where Keras 3 keeps a model's state in a `.weights.h5` file, beside the variables themselves
// (whose paths are each Param's keras3_path): one `vars` group per saveable object, the model's
// and every layer's, weightless ones included. io/Weights.h writes them; docs/WEIGHTS.md has the
// mapping from a `.cnn` model (blocks included) and the Keras source behind it.
#pragma once
#include <string>

namespace cnnc::rt {

struct KerasGroup {
    // The object's path: "" for the model itself, "layers/flatten",
    // "layers/functional/layers/conv2d_3"; its variables live in "<path>/vars".
    std::string path;
    // The object's `name` ("block1_conv1"), which Keras >= 3.6 writes as the `vars` group's attribute.
    std::string name;
};

}  // namespace cnnc::rt
