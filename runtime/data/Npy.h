// NumPy's .npy format (numpy.lib.format: a magic string, a version, a little-endian header length,
// a Python dict literal saying the dtype, the order and the shape, then the raw data): the arrays
// `np.save` writes, read as samples and integer labels.
#pragma once
#include <string>

#include "data/Records.h"
#include "data/Table.h"

namespace cnnc::rt {

// Samples from `x_path`, an array of shape (N, ...) (each sample has the shape that follows N), and
// their labels from `y_path`, integers of shape (N,) or (N, 1). Versions 1.0, 2.0 and 3.0; C order;
// dtypes <f4, <f8, |u1, <i4 and <i8 (y: the integer ones). The header's shape is checked
// (overflow-safe) against the file's size and the memory the process may use before anything is
// allocated. Throws UserError, with the offending file's path first, for a missing or unreadable
// file, a bad magic or header, Fortran order, a big-endian, object or other unsupported dtype, a
// shape that disagrees with the file's size, labels that are not integers in int32's range, or
// differing sample counts.
LabeledRows load_npy(const std::string& x_path, const std::string& y_path);

// x_path's samples as records read at random (data/Records.h), its header checked as load_npy
// checks it; each value converts as load_npy converts it.
RecordLayout npy_records(const std::string& x_path);

// Labels as load_npy reads y_path's: integers of shape (N,) or (N, 1).
std::vector<int32_t> load_npy_labels(const std::string& y_path);

// One array of shape (N, ...) as floats, any supported dtype: a model input's samples or an
// output's targets when a dataset gives one array per input and output (npy(x = {...}, y = {...})).
Tensor load_npy_array(const std::string& path);

}  // namespace cnnc::rt
