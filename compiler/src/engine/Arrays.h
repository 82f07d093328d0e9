// Data that gives one array per model input and one target per output, keyed by their names:
// npy(x = {image = "a.npy", meta = "b.npy"}, y = {kind = "k.npy", score = "s.npy"}), as Keras'
// fit(x = {...}, y = {...}) takes dicts. The targets are used as the arrays give them (Keras passes
// y to each output's loss as it is): class ids for a sparse cross-entropy, else one value per
// output value (one-hot rows, 0/1, regression targets as floats).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "sema/Program.h"
#include "tensor/Tensor.h"

namespace cnnc::engine {

struct Arrays {
    std::vector<rt::Tensor> x, y;  // in the model's input and output order; every one (N, ...)
};

// Whether the member gives keyed arrays (the checker matched the keys with the model's names).
bool keyed_arrays(const DatasetMember& m);

// Reads the member's arrays (`path` resolves a written file name), takes its validation_split
// subset, multiplies the inputs by `rescale`, and checks them against model `m` trained with
// `outs`: equal sample counts, each input's sample shape, each target's shape against its output
// and its loss (class ids in range for a sparse cross-entropy). Throws UserError naming the file.
Arrays load_arrays(const Model& m, const DatasetMember& mem, const std::vector<OutputTraining>& outs,
                   const std::function<std::string(const std::string&)>& path, float rescale);

}  // namespace cnnc::engine
