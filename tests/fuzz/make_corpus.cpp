// Writes the seed corpus of the reader fuzz targets (tests/fuzz/corpus/<target>/): a few small,
// valid files of each format, written by the project's own writers where it has them (weights,
// state) and by zlib and stb_image_write otherwise. The committed corpus is this program's output:
//   build-fuzz/tests/fuzz/fuzz_make_corpus tests/fuzz/corpus
// Targets that take options from their input (FuzzedDataProvider reads them from the end) get
// seeds with option bytes appended, so each seed starts from a meaningful reading.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "../unit/TestData.h"  // npy_bytes: the .npy files the unit tests write
#include "io/StateFile.h"
#include "io/Weights.h"

namespace fs = std::filesystem;
using Bytes = std::string;

namespace {

fs::path out_dir;

void write(const std::string& target, const std::string& name, const Bytes& b) {
    fs::create_directories(out_dir / target);
    std::ofstream(out_dir / target / name, std::ios::binary) << b;
}

// `options` in the order the target consumes them; FuzzedDataProvider takes them from the end.
Bytes with_options(Bytes b, std::initializer_list<unsigned char> options) {
    for (auto it = std::rbegin(options); it != std::rend(options); ++it) b += static_cast<char>(*it);
    return b;
}

Bytes be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

Bytes idx_images(uint32_t n, uint32_t rows, uint32_t cols) {
    Bytes b = be32(0x803) + be32(n) + be32(rows) + be32(cols);
    for (uint32_t i = 0; i < n * rows * cols; ++i) b += static_cast<char>(i * 37 % 256);
    return b;
}

Bytes idx_labels(uint32_t n) {
    Bytes b = be32(0x801) + be32(n);
    for (uint32_t i = 0; i < n; ++i) b += static_cast<char>(i % 10);
    return b;
}

Bytes gzip(const Bytes& b) {
    std::string tmp = (out_dir / ".gz.tmp").string();
    gzFile f = gzopen(tmp.c_str(), "wb9");
    gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
    gzclose(f);
    std::ifstream in(tmp, std::ios::binary);
    Bytes out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    fs::remove(tmp);
    return out;
}

Bytes read_back(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    Bytes out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    fs::remove(path);
    return out;
}

void stb_sink(void* context, void* data, int size) { static_cast<Bytes*>(context)->append(static_cast<char*>(data), static_cast<size_t>(size)); }

std::vector<unsigned char> pixels(int w, int h, int c) {
    std::vector<unsigned char> px(static_cast<size_t>(w * h * c));
    for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<unsigned char>(i * 53 % 256);
    return px;
}

cnnc::rt::Param param(const std::string& name, const std::string& keras3_path, cnnc::rt::Dims shape) {
    cnnc::rt::Param p;
    p.name = name;
    p.keras3_path = keras3_path;
    p.value = cnnc::rt::Tensor(shape);
    for (int64_t i = 0; i < p.value.size(); ++i) p.value.data()[i] = 0.25f * static_cast<float>(i);
    return p;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_make_corpus DIR\n");
        return 2;
    }
    out_dir = argv[1];

    // IDX: plain and gzipped image and label files (fuzz_idx), and the plain ones as the content
    // fuzz_idx_gz compresses.
    for (const char* target : {"idx", "idx_gz"}) {
        write(target, "images", idx_images(3, 4, 5));
        write(target, "labels", idx_labels(3));
    }
    write("idx", "images.gz", gzip(idx_images(3, 4, 5)));
    write("idx", "labels.gz", gzip(idx_labels(3)));

    // .npy: each version and dtype the reader takes, as samples (x) and as labels (y) (fuzz_npy).
    using cnnc::test::npy_bytes;
    Bytes one_f4("\x00\x00\x80\x3f", 4), one_f8("\x00\x00\x00\x00\x00\x00\xf0\x3f", 8);
    write("npy", "x_f4_v1.npy", npy_bytes("<f4", "(2, 3)", one_f4 + one_f4 + one_f4 + one_f4 + one_f4 + one_f4));
    write("npy", "x_u1_v2.npy", npy_bytes("|u1", "(2, 2, 2)", Bytes("\x00\x01\x02\x03\xfc\xfd\xfe\xff", 8), 2));
    write("npy", "x_f8_v3.npy", npy_bytes("<f8", "(1, 2)", one_f8 + one_f8, 3));
    write("npy", "y_i4.npy", npy_bytes("<i4", "(2,)", Bytes("\x01\x00\x00\x00\x09\x00\x00\x00", 8)));
    write("npy", "y_i8.npy", npy_bytes("<i8", "(1, 1)", Bytes("\x02\x00\x00\x00\x00\x00\x00\x00", 8), 2));

    // CSV options: header, delimiter (, ; tab space |), by name?, name (label y class) or index
    // (byte - 4 .. ), shape?, shape dims.
    write("csv", "header_by_name", with_options("label,a,b\n1,0.5,2\n0,-1e3,3.25\n", {1, 0, 1, 0, 0}));
    write("csv", "no_header_last_column", with_options("0.5;2;1\n-1;3;0\n", {0, 1, 0, 3, 0}));
    write("csv", "quoted_shape", with_options("y,\"f,1\",f2\n1,\"7\",8\r\n0,9,10\r\n", {1, 0, 1, 1, 1, 1, 0}));
    // Sequences options: max_len (1 + byte), max_features (two bytes), pad_post, truncate_post.
    write("sequences", "short", with_options("1 4 5 6\n0 7 8\n1\t9 2 3 4 5 6 7 8 9 10 11\n", {7, 0, 100, 0, 0}));
    write("sequences", "post", with_options("0 1 2 3\n1 30000 2\n", {2, 0, 0, 1, 1}));

    // Images options: height (1 + byte), width (1 + byte), channels (1 3 4), nearest, crop.
    struct Image {
        const char* name;
        int w, h, c;
    };
    for (Image im : {Image{"gray.png", 5, 3, 1}, Image{"rgb.png", 4, 4, 3}, Image{"rgba.png", 3, 2, 4}}) {
        Bytes b;
        auto px = pixels(im.w, im.h, im.c);
        stbi_write_png_to_func(stb_sink, &b, im.w, im.h, im.c, px.data(), im.w * im.c);
        write("image", im.name, with_options(b, {3, 3, 1, 0, 0}));
    }
    {
        Bytes jpg, bmp;
        auto px = pixels(8, 6, 3);
        stbi_write_jpg_to_func(stb_sink, &jpg, 8, 6, 3, px.data(), 90);
        stbi_write_bmp_to_func(stb_sink, &bmp, 8, 6, 3, px.data());
        write("image", "rgb.jpg", with_options(jpg, {4, 6, 1, 0, 1}));
        write("image", "rgb.bmp", with_options(bmp, {2, 2, 0, 1, 0}));
    }
    // The smallest GIF: one transparent pixel (stb_image_write has no GIF writer).
    write("image", "pixel.gif", with_options(Bytes("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,"
                                                   "\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;", 43),
                                             {0, 0, 1, 0, 0}));

    // Weights: Keras 2's layout (layer_names) and Keras 3's (.weights.h5), as cnnc saves them.
    auto kernel = param("dense/kernel", "layers/dense/vars/0", {3, 2});
    auto bias = param("dense/bias", "layers/dense/vars/1", {2});
    std::vector<cnnc::rt::Param*> params{&kernel, &bias};
    std::string h5 = (out_dir / "model.h5").string(), k3 = (out_dir / "model.weights.h5").string();
    cnnc::rt::save_weights(h5, params);
    cnnc::rt::save_weights(k3, params);
    write("weights", "keras2.h5", read_back(h5));
    write("weights", "keras3.h5", read_back(k3));

    // State: one of each entry kind, as the trainer writes them.
    cnnc::rt::StateFile s;
    s.put("epoch", 2.0);
    s.put("model/dense/kernel", kernel.value);
    s.put_text("history", "epoch,loss\n0,0.5\n");
    std::string state = (out_dir / "state").string();
    s.save(state);
    write("state", "state", read_back(state));
    return 0;
}
