// JPEG decoding with libjpeg-turbo (what TensorFlow, and so Keras, decodes JPEG with): a decoder
// that is fuzzed upstream, where Debian's stb_image wrote past its buffers on hostile files. Data
// that libjpeg would decode to wrong pixels with a warning (a truncated file, a bad Huffman code)
// is an error here.
#pragma once
#include <cstddef>
#include <string>

namespace cnnc::rt {

bool is_jpeg(const unsigned char* data, size_t size);

// Decodes a JPEG held in memory into 8-bit interleaved pixels with `channels` channels (1, 3 or 4;
// converted as stb_image converts, like every format), to be freed with std::free. On corrupt data
// returns null and sets `why` to libjpeg's message.
unsigned char* decode_jpeg(const unsigned char* data, size_t size, int channels, int& width, int& height, std::string& why);

}  // namespace cnnc::rt
