// libFuzzer target: any bytes as an IDX file, plain or gzip (zlib tells them apart by content, so
// the gzip seeds take the same path as a user's .gz file), read once as the image file and once as
// the label file of load_idx, each paired with a valid file of the other kind.
#include "FuzzInput.h"
#include "data/Idx.h"

namespace {

// One 2x2 image and its label: the partner of the fuzzed file in each call.
const unsigned char kImages[] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4};
const unsigned char kLabels[] = {0, 0, 8, 1, 0, 0, 0, 1, 7};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace cnnc;
    static const std::string images = fuzz::write_input("images-idx3-ubyte", kImages, sizeof kImages);
    static const std::string labels = fuzz::write_input("labels-idx1-ubyte", kLabels, sizeof kLabels);
    std::string input = fuzz::write_input("input-idx-ubyte", data, size);
    fuzz::expect_success_or_user_error([&] { rt::load_idx(input, labels); });
    fuzz::expect_success_or_user_error([&] { rt::load_idx(images, input); });
    return 0;
}
