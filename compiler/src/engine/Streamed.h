// A dataset member read from disk as training goes (docs/DATA.md): an image folder with a `cache`
// argument, or too large to preload, becomes a data::ImageStream, and an npy or idx member a
// data::RecordStream, whose labels are checked and encoded for the loss as loaded samples' are.
#pragma once
#include <memory>
#include <string>

#include "builtins/Builtins.h"
#include "sema/Program.h"
#include "train/Source.h"

namespace cnnc::engine {

// The member `name` ("pets.train") of `ds` streamed, or null when it is read whole (load()).
// `statement` names the train or evaluate that reads it, for label errors; `rescale` is the
// dataset's.
std::unique_ptr<rt::Source> open_stream(const Dataset& ds, const DatasetMember& m, const std::string& name, const LossKind& loss,
                                        const Model& model, const std::string& statement, SourceReader& reader, float rescale);

// Samples of shape `per` against model `m`'s input (one input: the same number of values, and the
// same shape when of the same rank). Throws UserError naming `member`.
void check_sample_shape(const Model& m, const rt::Dims& per, const std::string& member);

}  // namespace cnnc::engine
