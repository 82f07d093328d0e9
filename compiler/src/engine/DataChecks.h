// Checks of loaded data against the statement that uses it, before any training step: labels
// inside the range the loss and the dataset's encoding allow, token ids inside the Embedding's
// vocabulary. Keras raises for both; a silent clamp or a label 7 under binary cross-entropy trains
// to nonsense.
#pragma once
#include <string>
#include <vector>

#include "sema/Program.h"
#include "tensor/Tensor.h"

namespace cnnc::engine {

// Where a dataset member's samples came from, for errors that name the first bad one.
struct DataOrigin {
    std::string inputs, labels;  // the files (or folder) holding the inputs and the labels
    std::vector<int64_t> lines;  // each sample's line in a text file; empty for binary files
    // "line 12" or "sample 5 (counting from 0)".
    std::string sample(int64_t i) const;
};

// Every label of `labels` inside what dataset `ds`'s encoding and `loss` allow for model `m`:
// binary 0/1, one_hot(k) and sparse labels 0..k-1. Throws UserError naming the file, the first
// offending sample and `statement`.
void check_labels(const std::vector<int32_t>& labels, const DataOrigin& origin, const Dataset& ds, const LossKind& loss,
                  const Model& m, const std::string& statement);

// Whether model `m`'s input feeds an Embedding (its samples are token ids).
bool takes_token_ids(const Model& m);

// When model `m`'s input feeds an Embedding: every value of `x` (samples along axis 0) an integer
// in 0..input_dim-1. Throws UserError naming the file, the first offending sample and `statement`.
void check_token_ids(const Model& m, const rt::Tensor& x, const DataOrigin& origin, const std::string& statement);

}  // namespace cnnc::engine
