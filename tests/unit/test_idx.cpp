// The MNIST IDX loader on small files written here, plain and gzipped, every error it reports, and
// the real MNIST files when the checkout has them.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>

#include "Error.h"
#include "Helpers.h"
#include "TempDir.h"
#include "TestData.h"
#include "data/Idx.h"

using namespace cnnc::rt;
using cnnc::test::read_bytes;
using cnnc::test::skip;
using cnnc::test::TempDir;
using cnnc::test::write_bytes;
using cnnc::test::write_gz;

namespace {

std::string be32(uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string idx_images(uint32_t n, uint32_t rows, uint32_t cols, const std::vector<uint8_t>& pixels,
                       uint32_t magic = 0x00000803) {
    return be32(magic) + be32(n) + be32(rows) + be32(cols) + std::string(pixels.begin(), pixels.end());
}

std::string idx_labels(const std::vector<uint8_t>& labels, uint32_t magic = 0x00000801) {
    return be32(magic) + be32(static_cast<uint32_t>(labels.size())) + std::string(labels.begin(), labels.end());
}

// Three 2x3 images, spanning the byte range, so a sign or offset slip shows.
const std::vector<uint8_t> kPixels = {0, 1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 60, 255, 254, 128, 127, 1, 0};
const std::vector<uint8_t> kLabels = {7, 0, 9};

void require_sample(const LabeledImages& d) {
    REQUIRE(d.images.shape() == Dims{3, 2, 3, 1});
    for (size_t i = 0; i < kPixels.size(); ++i) {
        INFO("pixel " << i);
        CHECK(d.images[static_cast<int64_t>(i)] == static_cast<float>(kPixels[i]));
    }
    CHECK(d.labels == std::vector<int32_t>{7, 0, 9});
}

// The message of the UserError that loading throws.
std::string error_of(const std::string& images, const std::string& labels) {
    try {
        load_idx(images, labels);
    } catch (const UserError& e) {
        return e.what();
    }
    FAIL("no UserError for " << images << " / " << labels);
    return "";
}

}  // namespace

TEST_CASE("IDX: plain files load with exact pixels and labels", "[idx]") {
    TempDir dir;
    write_bytes(dir / "images", idx_images(3, 2, 3, kPixels));
    write_bytes(dir / "labels", idx_labels(kLabels));
    require_sample(load_idx(dir / "images", dir / "labels"));
}

TEST_CASE("IDX: gzipped files load the same", "[idx]") {
    TempDir dir;
    write_gz(dir / "images.gz", idx_images(3, 2, 3, kPixels));
    write_gz(dir / "labels.gz", idx_labels(kLabels));
    REQUIRE(read_bytes(dir / "images.gz").substr(0, 2) == "\x1f\x8b");  // really compressed
    require_sample(load_idx(dir / "images.gz", dir / "labels.gz"));
}

TEST_CASE("IDX: a missing path falls back to its .gz or plain twin", "[idx]") {
    TempDir dir;
    SECTION("plain name given, only .gz on disk") {
        write_gz(dir / "images.gz", idx_images(3, 2, 3, kPixels));
        write_gz(dir / "labels.gz", idx_labels(kLabels));
        require_sample(load_idx(dir / "images", dir / "labels"));
    }
    SECTION(".gz name given, only the plain file on disk") {
        write_bytes(dir / "images", idx_images(3, 2, 3, kPixels));
        write_bytes(dir / "labels", idx_labels(kLabels));
        require_sample(load_idx(dir / "images.gz", dir / "labels.gz"));
    }
}

TEST_CASE("IDX: missing files", "[idx]") {
    TempDir dir;
    write_bytes(dir / "images", idx_images(3, 2, 3, kPixels));
    write_bytes(dir / "labels", idx_labels(kLabels));
    CHECK(error_of(dir / "nope", dir / "labels") ==
          dir / "nope" + ": no such file (nor " + dir / "nope.gz" + ")");
    CHECK(error_of(dir / "images", dir / "nope.gz") == dir / "nope.gz" + ": no such file (nor " + dir / "nope" + ")");
    CHECK(error_of(dir.path(), dir / "labels") == dir.path() + ": is a directory, not an IDX file");
}

TEST_CASE("IDX: wrong magic numbers", "[idx]") {
    TempDir dir;
    write_bytes(dir / "images", idx_images(3, 2, 3, kPixels));
    write_bytes(dir / "labels", idx_labels(kLabels));
    CHECK(error_of(dir / "labels", dir / "images") ==
          dir / "images" + ": not an IDX label file: magic number 0x00000803, expected 0x00000801 (this is an IDX "
                           "image file; are the image and label paths swapped?)");
    write_bytes(dir / "floats", idx_images(3, 2, 3, kPixels, 0x00000D03));
    CHECK(error_of(dir / "floats", dir / "labels") ==
          dir / "floats" + ": not an IDX image file: magic number 0x00000d03, expected 0x00000803 (an IDX file of "
                           "32-bit floats in 3 dimensions)");
    write_bytes(dir / "text", "hello, world\n");
    CHECK(error_of(dir / "text", dir / "labels") ==
          dir / "text" + ": not an IDX image file: magic number 0x68656c6c, expected 0x00000803");
}

TEST_CASE("IDX: lengths must match the header", "[idx]") {
    TempDir dir;
    write_bytes(dir / "images", idx_images(3, 2, 3, kPixels));
    write_bytes(dir / "labels", idx_labels(kLabels));

    write_bytes(dir / "short-images", idx_images(3, 2, 3, kPixels).substr(0, 16 + 10));
    CHECK(error_of(dir / "short-images", dir / "labels") ==
          dir / "short-images" + ": truncated: header promises 18 bytes of pixels, file has 10");

    write_bytes(dir / "long-images", idx_images(3, 2, 3, kPixels) + "xy");
    CHECK(error_of(dir / "long-images", dir / "labels") ==
          dir / "long-images" + ": too long: header promises 18 bytes of pixels, file has 20");

    write_bytes(dir / "short-labels", idx_labels(kLabels).substr(0, 8 + 1));
    CHECK(error_of(dir / "images", dir / "short-labels") ==
          dir / "short-labels" + ": truncated: header promises 3 bytes of labels, file has 1");

    write_bytes(dir / "stub", idx_images(3, 2, 3, kPixels).substr(0, 7));
    CHECK(error_of(dir / "stub", dir / "labels") ==
          dir / "stub" + ": truncated: the IDX image header is 16 bytes, file has 7");

    write_bytes(dir / "empty", "");
    CHECK(error_of(dir / "images", dir / "empty") ==
          dir / "empty" + ": truncated: the IDX label header is 8 bytes, file has 0");

    // 2^32-1 images of 2^32-1 x 2^32-1 pixels: the promise overflows 64 bits and must not wrap.
    write_bytes(dir / "huge", be32(0x803) + be32(0xffffffff) + be32(0xffffffff) + be32(0xffffffff) + "abc");
    CHECK(error_of(dir / "huge", dir / "labels") ==
          dir / "huge" + ": truncated: header promises 4294967295x4294967295x4294967295 bytes of pixels, more than 2^64");

    // A zero side makes the promise 0 bytes, which any file holds, while count x rows alone would
    // overflow (the fuzzer's find); an empty set of huge images would overflow a sample's size.
    write_bytes(dir / "flat", be32(0x803) + be32(0xbfbfbfbf) + be32(0xbfbfbfbf) + be32(0));
    CHECK(error_of(dir / "flat", dir / "labels") ==
          dir / "flat" + ": the IDX header declares images of 3217014719x0 pixels; an image has 1 to 2^31 pixels");
    write_bytes(dir / "vast", be32(0x803) + be32(0) + be32(0x10000) + be32(0x10000));
    CHECK(error_of(dir / "vast", dir / "labels") ==
          dir / "vast" + ": the IDX header declares images of 65536x65536 pixels; an image has 1 to 2^31 pixels");
}

TEST_CASE("IDX: image and label counts must agree", "[idx]") {
    TempDir dir;
    write_bytes(dir / "images", idx_images(3, 2, 3, kPixels));
    write_bytes(dir / "labels", idx_labels({1, 2}));
    CHECK(error_of(dir / "images", dir / "labels") ==
          dir / "labels" + ": 2 labels, but " + dir / "images" + " has 3 images");
}

TEST_CASE("IDX: a corrupt gzip stream is an error, not short data", "[idx]") {
    TempDir dir;
    write_bytes(dir / "labels", idx_labels(kLabels));
    write_gz(dir / "good.gz", idx_images(3, 2, 3, kPixels));
    std::string gz = read_bytes(dir / "good.gz");
    REQUIRE(gz.size() > 20);

    SECTION("cut short, as an interrupted download") {
        write_bytes(dir / "images.gz", gz.substr(0, gz.size() - 10));
        CHECK(error_of(dir / "images.gz", dir / "labels") ==
              dir / "images.gz" + ": corrupt gzip stream: unexpected end of file");
    }
    SECTION("checksum damaged") {
        gz[gz.size() - 8] ^= 0x55;  // the trailer's CRC-32
        write_bytes(dir / "images.gz", gz);
        CHECK(error_of(dir / "images.gz", dir / "labels") ==
              dir / "images.gz" + ": corrupt gzip stream: incorrect data check");
    }
    SECTION("deflate data damaged") {
        gz[10] = static_cast<char>(0xff);  // first block header after the 10-byte gzip header: type 3 is invalid
        write_bytes(dir / "images.gz", gz);
        CHECK(error_of(dir / "images.gz", dir / "labels") ==
              dir / "images.gz" + ": corrupt gzip stream: invalid block type");
    }
}

TEST_CASE("IDX: the real MNIST training and test sets", "[idx][mnist]") {
    std::string dir = std::string(CNNC_ROOT) + "/data/mnist/";
    if (!std::filesystem::exists(dir + "train-labels-idx1-ubyte") &&
        !std::filesystem::exists(dir + "train-labels-idx1-ubyte.gz")) {
        skip("MNIST is not in data/mnist (scripts/fetch-mnist puts it there)");
    }
    LabeledImages train = load_idx(dir + "train-images-idx3-ubyte", dir + "train-labels-idx1-ubyte");
    REQUIRE(train.images.shape() == Dims{60000, 28, 28, 1});
    REQUIRE(train.labels.size() == 60000);
    CHECK(std::vector<int32_t>(train.labels.begin(), train.labels.begin() + 4) == std::vector<int32_t>{5, 0, 4, 1});
    // Row 5 of the first image (the "5"), and the sum of every pixel: any misplaced byte changes it.
    std::vector<float> row5(train.images.data() + 5 * 28, train.images.data() + 6 * 28);
    CHECK(row5 == std::vector<float>{0,   0,   0,   0,   0,   0,  0,   0,   0,   0,   0,   0,   3,   18,
                                     18,  18,  126, 136, 175, 26, 166, 255, 247, 127, 0,   0,   0,   0});
    int64_t sum = 0;
    for (int64_t i = 0; i < train.images.size(); ++i) sum += static_cast<int64_t>(train.images[i]);
    CHECK(sum == 1567298545);

    if (std::filesystem::exists(dir + "t10k-labels-idx1-ubyte") ||
        std::filesystem::exists(dir + "t10k-labels-idx1-ubyte.gz")) {
        LabeledImages test = load_idx(dir + "t10k-images-idx3-ubyte", dir + "t10k-labels-idx1-ubyte");
        REQUIRE(test.images.shape() == Dims{10000, 28, 28, 1});
        CHECK(std::vector<int32_t>(test.labels.begin(), test.labels.begin() + 4) == std::vector<int32_t>{7, 2, 1, 0});
    }
}
