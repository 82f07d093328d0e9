// Loaders for tabular and sequence data, and the seeded train/validation split Keras'
// `validation_split` + `subset` + `seed` arguments describe.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/Tensor.h"

namespace cnnc::rt {

struct LabeledRows {
    Tensor x;                     // (N, features...) as floats
    std::vector<int32_t> labels;  // N class labels (0/1 for binary)
    std::vector<int64_t> lines;   // the line each sample came from (CSV, sequences); empty otherwise
};

struct CsvOptions {
    std::string label_name;  // the label column by header name, or
    int64_t label_index = -1;  // by position (negative counts from the end)
    bool header = true;
    char delimiter = ',';
    Dims shape;  // reshape each row's features (e.g. (9, 1) for Conv1D); empty: (features,)
};
// Every error names the file and, for a bad cell, its line and column.
LabeledRows load_csv(const std::string& path, const CsvOptions& o);

struct SequenceOptions {
    int64_t max_len = 0;
    int64_t max_features = 0;  // 0: no limit; ids >= max_features become 2 (Keras' oov_char)
    bool pad_post = false, truncate_post = false;  // Keras pad_sequences: 'pre' by default
};
// One sample per line: the label, then the token ids, separated by spaces or tabs.
LabeledRows load_sequences(const std::string& path, const SequenceOptions& o);

// Keras' split: shuffle the samples with `seed` (unless `shuffle` is false), then the last
// int(fraction * n) are "validation" and the rest "training". Both subsets come from the same
// permutation, so they never overlap. Fraction 0 with shuffle: all samples, shuffled.
// The sample indices take_subset keeps, in its order: for sources that split before reading (a
// streamed image folder splits its file list).
std::vector<int64_t> subset_order(int64_t n, double fraction, bool validation, uint64_t seed, bool shuffle = true);
// The samples `picked` (indices into `all`), in that order.
LabeledRows take_rows(const LabeledRows& all, const std::vector<int64_t>& picked);
LabeledRows take_subset(const LabeledRows& all, double fraction, bool validation, uint64_t seed, bool shuffle = true);

}  // namespace cnnc::rt
