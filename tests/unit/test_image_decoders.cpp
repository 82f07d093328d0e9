// The decoders behind image_directory on damaged files: JPEG through libjpeg-turbo, whose warnings
// about corrupt data are errors, and BMP through stb_image after a check that the file holds the
// rows it declares (stb reads zeros past the end, so a truncated file decoded to black rows).
#include <stb/stb_image_write.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "Error.h"
#include "Helpers.h"
#include "TempDir.h"
#include "data/ImageFolder.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

// A 16x16 RGB picture: a horizontal ramp of red, a vertical one of green, blue constant.
std::vector<unsigned char> ramp() {
    std::vector<unsigned char> px(16 * 16 * 3);
    for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x) {
            unsigned char* p = &px[static_cast<size_t>((y * 16 + x) * 3)];
            p[0] = static_cast<unsigned char>(x * 16), p[1] = static_cast<unsigned char>(y * 16), p[2] = 100;
        }
    return px;
}

// The 54 bytes of an uncompressed 24-bit BMP's headers declaring width x height pixels.
std::string bmp_header(uint32_t width, uint32_t height) {
    std::string h(54, '\0');
    auto put = [&](size_t at, uint32_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) h[at + static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
    };
    h[0] = 'B', h[1] = 'M';
    put(2, 54, 4);   // file size
    put(10, 54, 4);  // pixel data offset
    put(14, 40, 4);  // BITMAPINFOHEADER
    put(18, width, 4), put(22, height, 4);
    put(26, 1, 2), put(28, 24, 2);  // planes, bits per pixel
    return h;
}

// `path` cut to `keep` of its bytes.
void truncate_to(const fs::path& path, uintmax_t keep) { fs::resize_file(path, keep); }

std::string decode_error(const fs::path& path) {
    rt::ImageFolderOptions o;
    o.height = o.width = 16;
    try {
        rt::load_image(path.string(), o);
    } catch (const rt::UserError& e) {
        return e.what();
    }
    return "decoded";
}

}  // namespace

TEST_CASE("JPEG: decoded by libjpeg-turbo to the picture written, a truncated file is an error", "[data][images][faults]") {
    TempDir dir;
    const fs::path jpg = fs::path(dir.path()) / "ramp.jpg";
    std::vector<unsigned char> px = ramp();
    REQUIRE(stbi_write_jpg(jpg.string().c_str(), 16, 16, 3, px.data(), 100));
    rt::ImageFolderOptions o;
    o.height = o.width = 16;
    rt::Tensor t = rt::load_image(jpg.string(), o);
    double worst = 0;
    for (size_t i = 0; i < px.size(); ++i) worst = std::max(worst, std::abs(double(t[static_cast<int64_t>(i)]) - px[i]));
    CHECK(worst <= 8);  // quality 100: chroma subsampling and rounding only
    // Grayscale output: stb's RGB-to-gray weights, as for every format.
    o.channels = 1;
    CHECK(rt::load_image(jpg.string(), o).size() == 16 * 16);

    // The entropy-coded data cut in half: libjpeg would fill the rest with grey and warn.
    truncate_to(jpg, fs::file_size(jpg) / 2 + 300);
    std::string e = decode_error(jpg);
    CHECK_THAT(e, Catch::StartsWith(jpg.string() + ": cannot decode image (") && Catch::Contains("Premature end of JPEG file"));
}

TEST_CASE("BMP: a file shorter than the rows its header declares is an error, not black rows", "[data][images][faults]") {
    TempDir dir;
    const fs::path bmp = fs::path(dir.path()) / "ramp.bmp";
    std::vector<unsigned char> px = ramp();
    REQUIRE(stbi_write_bmp(bmp.string().c_str(), 16, 16, 3, px.data()));
    CHECK(decode_error(bmp) == "decoded");
    truncate_to(bmp, fs::file_size(bmp) - 1);
    CHECK(decode_error(bmp) == bmp.string() + ": cannot decode image (truncated BMP: the file is shorter than the pixel rows its header declares)");
}

TEST_CASE("BMP: an image of 0 x 0 pixels is an error, not a read before its buffer", "[data][images][faults]") {
    // The image fuzzer's find (tests/fuzz/regressions/image/): stb_image returns a 0 x 0 BMP as
    // decoded, and resizing it read the byte before its buffer.
    TempDir dir;
    const fs::path bmp = fs::path(dir.path()) / "empty.bmp";
    std::ofstream(bmp, std::ios::binary).write(bmp_header(0, 0).data(), 54);
    CHECK(decode_error(bmp) == bmp.string() + ": cannot decode image (it declares 0 x 0 pixels: an image without pixels)");
}

TEST_CASE("PPM/PGM: a header number of more than 9 digits is an error, not an int overflow in stb", "[data][images][faults]") {
    // The image fuzzer's find (tests/fuzz/regressions/image/): Debian 12's stb_image reads a PNM
    // width into an int with no overflow check.
    TempDir dir;
    const fs::path ppm = fs::path(dir.path()) / "wide.ppm";
    std::ofstream(ppm, std::ios::binary) << "P6666666666666\r\n255\n";
    CHECK(decode_error(ppm) == ppm.string() + ": cannot decode image (a PGM/PPM header number longer than 9 digits)");
    const fs::path pgm = fs::path(dir.path()) / "comment.pgm";
    std::ofstream(pgm, std::ios::binary) << "P5 # a comment\n 2 1234567890\n255\n";
    CHECK(decode_error(pgm) == pgm.string() + ": cannot decode image (a PGM/PPM header number longer than 9 digits)");
    // A real one still decodes: 2 x 2 grey pixels.
    const fs::path ok = fs::path(dir.path()) / "ok.pgm";
    std::ofstream(ok, std::ios::binary) << "P5\n# made by hand\n2 2\n255\n" << std::string("\x10\x20\x30\x40", 4);
    CHECK(decode_error(ok) == "decoded");
}

TEST_CASE("PPM/PGM: 16-bit and truncated files are errors, not reads past stb's buffer", "[data][images][faults]") {
    // The image fuzzer's second find: stb_image's 16-bit PNM path overruns on a short file.
    TempDir dir;
    const fs::path wide = fs::path(dir.path()) / "deep.pgm";
    std::ofstream(wide, std::ios::binary) << "P5\n2 2\n65535\n" << std::string(8, '\x01');
    CHECK(decode_error(wide) == wide.string() + ": cannot decode image (a 16-bit PGM/PPM (maxval above 255) is not supported)");
    const fs::path shortf = fs::path(dir.path()) / "short.ppm";
    std::ofstream(shortf, std::ios::binary) << "P6\n2 2\n255\n" << std::string(11, '\x01');  // 12 bytes declared
    CHECK(decode_error(shortf) == shortf.string() + ": cannot decode image (truncated PGM/PPM: the file is shorter than the pixels its header declares)");
}
