// `cnnc data FILE [--dataset D]`: what each dataset member holds, read as a run reads it: its
// samples, classes and their counts, the sample shape, how fast its files read and decode, and the
// image files that do not decode, by name.
#pragma once
#include <string>

#include "frontend/Frontend.h"

namespace cnnc::engine {

// Every member of every dataset (or of `dataset` only). Returns the exit code: 0, or 1 when a
// member's data is bad (an image that does not decode, a file that does not read), after naming it.
int describe_data(const Compilation& c, const std::string& file, const std::string& dataset);

}  // namespace cnnc::engine
