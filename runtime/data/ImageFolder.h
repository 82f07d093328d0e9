// Keras' image_dataset_from_directory: one sub-folder per class (sorted names give the labels),
// JPEG decoded with libjpeg-turbo, PNG with libpng (checksums verified), BMP and GIF with stb_image,
// in parallel, resized to the model's size, pixels 0..255.
#pragma once
#include <string>
#include <vector>

#include "data/Resize.h"
#include "data/Table.h"

namespace cnnc::rt {

struct ImageFolderOptions {
    int64_t height = 256, width = 256;
    int channels = 3;                 // grayscale 1, rgb 3, rgba 4
    Interpolation interpolation = Interpolation::bilinear;
    bool crop_to_aspect_ratio = false;
    bool skip_corrupt = false;  // leave out images that do not decode instead of stopping
    int threads = 2;
};

// A folder's image files in label order (sorted class folders, sorted files in each) and their
// labels, as Keras' index_directory lists them, before anything is decoded. Errors and `ignored`
// as load_image_folder's.
struct ImageFiles {
    std::vector<std::string> paths;
    std::vector<int32_t> labels;
    std::vector<std::string> classes;  // the class folders' names, in label order
};
ImageFiles list_image_folder(const std::string& dir, std::vector<std::string>* ignored = nullptr);

// Decodes, crops and resizes one image file into dst (height x width x channels floats, 0..255),
// or returns false with `why` set: what every reader of image files (folder, stream, cache) calls.
bool decode_image(const std::string& path, const ImageFolderOptions& o, float* dst, std::string& why);

// Every error names the folder or the file (an image that does not decode, a folder without
// classes).
// With skip_corrupt, `skipped` receives the files left out. `ignored` receives, as "path (why)",
// the entries with an image name that are not image files (dangling links, FIFOs, link loops,
// folders named x.jpg): never opened, for the caller to warn about.
LabeledRows load_image_folder(const std::string& dir, const ImageFolderOptions& o, std::vector<std::string>* class_names = nullptr,
                              std::vector<std::string>* skipped = nullptr, std::vector<std::string>* ignored = nullptr);

// One image file as the folder loader reads it: (height, width, channels), pixels 0..255.
Tensor load_image(const std::string& path, const ImageFolderOptions& o);

}  // namespace cnnc::rt
