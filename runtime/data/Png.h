// PNG decoding with libpng, which verifies every chunk's CRC and the image data's zlib Adler-32
// checksum (stb_image checks neither, so a flipped bit decoded to wrong pixels).
#pragma once
#include <cstdint>
#include <cstddef>
#include <string>

namespace cnnc::rt {

bool is_png(const unsigned char* data, size_t size);

// Decodes a PNG held in memory into 8-bit interleaved pixels with `channels` channels (1 grayscale,
// 3 RGB, 4 RGBA; converted as stb_image converts), to be freed with std::free. On corrupt data
// returns null and sets `why` to libpng's message.
// The most pixels an image may declare (8192 x 8192): a small file whose header claims a huge image
// is refused before any pixel buffer is allocated, by every decoder (PIL's limit is of this size).
// The fuzz targets' build (libFuzzer's FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) allows 1024 x 1024,
// so that each input decodes in milliseconds under the sanitizers and a slow input is a real find.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr uint64_t kMaxImagePixels = uint64_t(1) << 20;
#else
constexpr uint64_t kMaxImagePixels = uint64_t(1) << 26;
#endif

unsigned char* decode_png(const unsigned char* data, size_t size, int channels, int& width, int& height, std::string& why);

// stb_image's conversion between channel counts (data/StbImage.cpp): takes ownership of `data`
// (8-bit, `from` channels) and returns the image with `to` channels (`data` itself when they are
// equal), or null with `why` set when out of memory.
unsigned char* convert_channels(unsigned char* data, int from, int to, int width, int height, std::string& why);

}  // namespace cnnc::rt
