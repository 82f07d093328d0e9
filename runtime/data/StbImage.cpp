// stb_image's implementation, from Debian's libstb-dev header, compiled into the runtime so a
// `cnnc build` executable decodes images without a shared libstb.
// Only the formats cnnc reads through stb: BMP and GIF (image_directory) and PGM/PPM (`cnnc predict`
// of a digit, as scripts/demo does). PNG goes through libpng (data/Png.h), JPEG through libjpeg-turbo
// (data/Jpeg.h); the others stb knows (PSD, TGA, HDR, PIC) are left out, so their decoders are no
// attack surface.
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_PNM
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

#include "data/Png.h"

namespace cnnc::rt {

// libpng's pixels take the same channel conversion (e.g. stb's RGB-to-gray weights) as every other
// format's, so a PNG and a JPEG of one picture give the same inputs.
unsigned char* convert_channels(unsigned char* data, int from, int to, int width, int height, std::string& why) {
    if (from == to) return data;
    unsigned char* px = stbi__convert_format(data, from, to, static_cast<unsigned>(width), static_cast<unsigned>(height));
    if (!px) why = "out of memory";
    return px;
}

}  // namespace cnnc::rt
