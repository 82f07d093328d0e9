// `cnnc graph FILE [--model M] -o model.svg|png|dot`: the model drawn as keras.utils.plot_model
// draws it (summary/Graph.h makes the DOT text). A .dot file is that text; .svg and .png are
// Graphviz's `dot` run on it, found on the PATH and run without a shell. Either output replaces
// its file atomically, so a failed run leaves the old one.
#pragma once
#include "app/Cli.h"

namespace cnnc::app {

void add_graph_command(Cli& cli, Models& models);

}  // namespace cnnc::app
