// Data files the tests write in real formats (never mocks of the loaders), and reading a metric
// back from cnnc's output.
#pragma once
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include <zlib.h>

namespace cnnc::test {

// An MNIST-style IDX pair: n images of h x w bytes from pixel(i, y, x), labels from label(i).
inline void write_idx(const std::filesystem::path& images, const std::filesystem::path& labels, int n, int h, int w,
                      const std::function<unsigned char(int, int, int)>& pixel, const std::function<int(int)>& label) {
    auto be32 = [](std::ofstream& o, uint32_t v) {
        unsigned char b[4] = {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
                              static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
        o.write(reinterpret_cast<char*>(b), 4);
    };
    std::ofstream im(images, std::ios::binary), lb(labels, std::ios::binary);
    be32(im, 0x803), be32(im, static_cast<uint32_t>(n)), be32(im, static_cast<uint32_t>(h)), be32(im, static_cast<uint32_t>(w));
    be32(lb, 0x801), be32(lb, static_cast<uint32_t>(n));
    for (int i = 0; i < n; ++i) {
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                unsigned char p = pixel(i, y, x);
                im.write(reinterpret_cast<char*>(&p), 1);
            }
        auto l = static_cast<unsigned char>(label(i));
        lb.write(reinterpret_cast<char*>(&l), 1);
    }
}

// `bytes` gzip-compressed into `path` (an IDX .gz as MNIST publishes it).
inline void write_gz(const std::string& path, const std::string& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    if (!f || gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size()) || gzclose(f) != Z_OK)
        throw std::runtime_error("cannot write " + path);
}

// A .npy file as np.save writes it: the magic, the version, the header's length (2 bytes in 1.0,
// 4 after), the dict padded with spaces to a multiple of 64 and ended by a newline, then the data.
inline std::string npy_bytes(const std::string& descr, const std::string& shape, const std::string& data, int major = 1,
                             bool fortran = false) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
    const size_t len_bytes = major == 1 ? 2 : 4, fixed = 8 + len_bytes;
    dict.append(63 - (fixed + dict.size()) % 64, ' ');
    dict += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(major), out += '\0';
    for (size_t i = 0; i < len_bytes; ++i) out += static_cast<char>(dict.size() >> (8 * i));
    return out + dict + data;
}

// The value of `metric` on the last line of `output` that starts with `line_start` (the
// evaluation line "<model> on <data>: loss: ... - accuracy: ..."); NaN when absent.
inline double metric_on_line(const std::string& output, const std::string& line_start, const std::string& metric) {
    auto at = output.rfind(line_start);
    if (at == std::string::npos) return NAN;
    auto m = output.find(metric + ": ", at);
    if (m == std::string::npos) return NAN;
    return std::stod(output.substr(m + metric.size() + 2));
}

}  // namespace cnnc::test
