// `cnnc predict`'s input and output: image files read as a model's training data was read, and one
// line per image with its class and the probabilities.
#pragma once
#include <string>
#include <vector>

#include "data/ImageFolder.h"
#include "sema/Program.h"

namespace cnnc::engine {

// The images decoded to model `m`'s input (o's height, width and channels), each value times
// `scale`: a batch of images.size() samples.
rt::Tensor read_images(const std::vector<std::string>& images, const Model& m, const rt::ImageFolderOptions& o, float scale);

// For each image its class (named from `classes` where it has the index), its score and every
// class's; `y` holds the model's outputs, one row per image. An output without a softmax or
// sigmoid is said not to be probabilities.
void print_predictions(const std::vector<std::string>& images, const rt::View& y, const std::vector<std::string>& classes,
                       const std::string& activation);

}  // namespace cnnc::engine
