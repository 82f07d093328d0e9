// Loading Keras-layout weights files into a built network: a whole model (`evaluate { weights =
// ... }`) or a block declared with `weights = "file.h5"` (a pretrained base such as VGG16's
// published `notop` file), matched by layer name, with errors that name the file, the layer and
// the shapes.
#pragma once
#include <functional>
#include <string>

#include "io/Weights.h"
#include "net/Network.h"
#include "sema/Program.h"

namespace cnnc::rt {
class Optimizer;
}

namespace cnnc::engine {

// The arrays for the layers under `layers` (named from `prefix`; `top` is the enclosing top-level
// layer, "" at the top).
void load_weights_into(const std::vector<LayerNode>& layers, const std::string& prefix, const std::string& top, rt::Network& net,
                       const rt::WeightsFile& f, const std::string& file);
// `train m on d { weights = "file" }`: the model's weights from `file`, then, from a Keras 3
// `.weights.h5` that carries them, the optimizer's variables into `opt` (built for the network's
// trainable weights), as Keras' load_weights does before fit(). What was loaded, or why the
// optimizer's variables were skipped, is printed.
void load_training_weights(const Model& m, rt::Network& net, rt::Optimizer& opt, const std::string& file);
// Every block with `weights = ...` under `layers`; `resolve` turns the written path into a file.
void load_block_weights(const std::vector<LayerNode>& layers, const std::string& prefix, rt::Network& net, const std::string& model_file,
                        const std::function<std::string(const std::string&)>& resolve);

}  // namespace cnnc::engine
