// libFuzzer target: any bytes as one image file, decoded as image_directory decodes each file
// (rt::load_image: decode, crop, resize), with the output size, channels, interpolation and crop
// taken from the input's first bytes. The file is named after its content's signature, so a
// decoder that goes by the extension sees PNG as .png, JPEG as .jpg, and so on.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstring>

#include "FuzzInput.h"
#include "data/ImageFolder.h"

namespace {

const char* extension(const std::string& b) {
    auto starts = [&](const char* sig, size_t n) { return b.size() >= n && std::memcmp(b.data(), sig, n) == 0; };
    if (starts("\x89PNG", 4)) return ".png";
    if (starts("\xff\xd8", 2)) return ".jpg";
    if (starts("GIF8", 4)) return ".gif";
    if (starts("BM", 2)) return ".bmp";
    return ".jpeg";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace cnnc;
    FuzzedDataProvider in(data, size);
    rt::ImageFolderOptions o;
    o.height = in.ConsumeIntegralInRange<int64_t>(1, 16);
    o.width = in.ConsumeIntegralInRange<int64_t>(1, 16);
    o.channels = in.PickValueInArray({1, 3, 4});
    o.interpolation = in.PickValueInArray({rt::Interpolation::bilinear, rt::Interpolation::nearest, rt::Interpolation::bicubic, rt::Interpolation::area});
    o.crop_to_aspect_ratio = in.ConsumeBool();
    std::string bytes = in.ConsumeRemainingBytesAsString();
    std::string path = fuzz::write_input(std::string("image") + extension(bytes), bytes.data(), bytes.size());
    fuzz::expect_success_or_user_error([&] { rt::load_image(path, o); });
    return 0;
}
