// A checked model as a Graphviz graph (DOT text), as keras.utils.plot_model(show_shapes = True)
// draws it: a node per model input and per layer with its name, type, output shape and parameter
// count, an edge for each tensor a layer reads, and each block as a (nested) cluster. `cnnc graph`
// writes it, or hands it to Graphviz's `dot` for SVG and PNG.
#pragma once
#include <string>

#include "sema/Program.h"

namespace cnnc {

std::string model_dot(const Model& m);

}  // namespace cnnc
