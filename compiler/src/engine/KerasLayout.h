// How a `.cnn` model maps to the structure Keras 3 saves (docs/WEIGHTS.md): the group of every
// saveable object and of each layer, so a weights file cnnc writes loads into the model the seed's
// Keras code builds, and a file that model saved loads into cnnc.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "net/KerasGroup.h"
#include "sema/Program.h"

namespace cnnc::engine {

struct KerasLayout {
    std::vector<rt::KerasGroup> groups;  // the model's and every layer's, in Keras' order (rt::Network::keras_groups)
    // Where a leaf layer keeps its variables ("layers/conv2d_1"); absent for one that is no Keras layer.
    std::map<const LayerNode*, std::string> group_of;
};

// The layout of `m`:
//  - the model is a Sequential, or a Functional (its input layers first) when it is not a plain stack;
//  - a block with `weights = "file"` is a pretrained application base: a Functional sub-model
//    (keras.applications builds one), "layers/functional/...", with its own input layer;
//  - an augmentation is a nested Sequential, as the seed's `keras.Sequential([RandomFlip...])`;
//  - any other block is a Python helper function: inlined, its layers numbered in the enclosing model;
//  - PreprocessInput is keras.applications' preprocess_input, a function of ops and no layer: no group.
// Layers are named by class and numbered per container, as keras.saving does.
KerasLayout keras_layout(const Model& m);

}  // namespace cnnc::engine
