// The IDX format MNIST ships in (http://yann.lecun.com/exdb/mnist/): a big-endian header, then raw
// unsigned bytes. Files may be plain or gzipped, since MNIST is distributed both ways.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/Records.h"
#include "tensor/Tensor.h"

namespace cnnc::rt {

struct LabeledImages {
    Tensor images;                // (N, H, W, 1): raw pixel values 0..255 as float, unscaled
    std::vector<int32_t> labels;  // N labels, 0..255 as stored
};

// Loads an IDX3 image file (magic 0x00000803) and its IDX1 label file (magic 0x00000801).
// A path that does not exist is retried with ".gz" appended, or with a trailing ".gz" removed.
// Files are streamed: the header's sizes are checked (overflow-safe) against what the file can
// hold and the memory the process may use before anything is allocated.
// Throws UserError, with the offending file's path first, for a missing file, a wrong magic, a
// length that does not match the header (truncated, or trailing bytes), a size beyond the memory
// limit, a corrupt gzip stream, or differing image/label counts.
LabeledImages load_idx(const std::string& images_path, const std::string& labels_path);

// The image file's pixels as records read at random (data/Records.h), one image each, its header
// checked as load_idx checks it. A gzipped file cannot be: `unseekable` says so.
RecordLayout idx_records(const std::string& images_path);

// The label file's labels, as load_idx reads them.
std::vector<int32_t> load_idx_labels(const std::string& labels_path);

}  // namespace cnnc::rt
