#include "data/ImageFolder.h"

#include <fcntl.h>
#include <stb/stb_image.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "Error.h"
#include "data/Jpeg.h"
#include "data/Png.h"

namespace fs = std::filesystem;

namespace cnnc::rt {

// The bytes of an image file, or "" and `why`: opened without blocking and checked to be a regular
// file, so a FIFO (or a file swapped for one after listing) is refused instead of hanging the load.
static bool read_file(const std::string& path, std::vector<unsigned char>& bytes, std::string& why) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        why = std::strerror(errno);
        return false;
    }
    struct stat st;
    bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (!ok) why = "not a regular file";
    if (ok) bytes.resize(static_cast<size_t>(st.st_size));
    for (size_t have = 0; ok && have < bytes.size();) {
        ssize_t n = ::read(fd, bytes.data() + have, bytes.size() - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ok = false, why = n < 0 ? std::strerror(errno) : "the file shrank while being read";
        else have += static_cast<size_t>(n);
    }
    ::close(fd);
    return ok;
}

// A BMP must hold the pixel rows its header declares: stb_image reads zeros past the end of the
// file, so a truncated BMP would decode to black rows without a word (and a 400-byte file declaring
// millions of pixels was decoded in full: the image fuzzer's timeout). The sizes are those stb reads
// (OS/2's 12-byte header has 16-bit ones); rows are padded to 4 bytes. Called after the declared
// pixels were found to be at most kMaxImagePixels, so nothing here overflows.
static bool bmp_holds_its_pixels(const unsigned char* p, size_t n) {
    auto u16 = [&](size_t k) { return k + 2 <= n ? uint64_t(p[k]) | uint64_t(p[k + 1]) << 8 : 0; };
    auto u32 = [&](size_t k) { return u16(k) | u16(k + 2) << 16; };
    const bool os2 = u32(14) == 12;
    const uint64_t offset = u32(10), width = os2 ? u16(18) : u32(18), bpp = os2 ? u16(24) : u16(28);
    const uint64_t height = os2 ? u16(20) : uint64_t(std::abs(int64_t(int32_t(uint32_t(u32(22))))));
    if (bpp > 32) return true;  // stb refuses it
    return offset + (width * bpp + 31) / 32 * 4 * height <= n;
}

// Why stb_image must not see a binary PGM/PPM ("" when it may). Debian 12's stb_image reads the
// header numbers into an int without an overflow check (undefined behaviour on "P6 666666666666"),
// and its 16-bit path (maxval > 255) reads past its buffer on a short file; so numbers longer than
// 9 digits, 16-bit files and pixel data shorter than the header declares are refused here. No real
// image is 10^9 pixels wide.
static std::string pnm_refusal(const unsigned char* p, size_t n) {
    if (n < 2 || p[0] != 'P' || (p[1] != '5' && p[1] != '6')) return "";  // not a PNM stb decodes
    size_t i = 2;
    uint64_t v[3] = {0, 0, 0};  // width, height, maxval
    for (uint64_t& number : v) {
        for (;;) {  // whitespace and comments, as stb skips them
            while (i < n && std::isspace(p[i])) ++i;
            if (i >= n || p[i] != '#') break;
            while (i < n && p[i] != '\n' && p[i] != '\r') ++i;
        }
        size_t digits = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9') number = number * 10 + uint64_t(p[i++] - '0'), ++digits;
        if (digits > 9) return "a PGM/PPM header number longer than 9 digits";
    }
    if (v[2] > 255) return "a 16-bit PGM/PPM (maxval above 255) is not supported";
    const uint64_t channels = p[1] == '6' ? 3 : 1;
    if (i + 1 + v[0] * v[1] * channels > n) return "truncated PGM/PPM: the file is shorter than the pixels its header declares";
    return "";
}

// PNG goes through libpng, which verifies its checksums, JPEG through libjpeg-turbo, the other formats
// (BMP, GIF, and PGM/PPM for `cnnc predict`) through stb_image.
bool decode_image(const std::string& path, const ImageFolderOptions& o, float* dst, std::string& why) {
    std::vector<unsigned char> bytes;
    if (!read_file(path, bytes, why)) return false;
    int w = 0, h = 0, c = 0;
    unsigned char* img = nullptr;
    if (is_png(bytes.data(), bytes.size())) {
        img = decode_png(bytes.data(), bytes.size(), o.channels, w, h, why);
    } else if (is_jpeg(bytes.data(), bytes.size())) {
        img = decode_jpeg(bytes.data(), bytes.size(), o.channels, w, h, why);
    } else if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
        why = "file too large";
    } else if (std::string r = pnm_refusal(bytes.data(), bytes.size()); !r.empty()) {
        why = r;
    } else if (int iw = 0, ih = 0, ic = 0; stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &iw, &ih, &ic) &&
                                             uint64_t(iw) * uint64_t(ih) > kMaxImagePixels) {
        why = fmt::format("it declares {} x {} pixels, more than cnnc decodes (a decompression bomb?)", iw, ih);
    } else if (bytes.size() >= 2 && bytes[0] == 'B' && bytes[1] == 'M' && !bmp_holds_its_pixels(bytes.data(), bytes.size())) {
        why = "truncated BMP: the file is shorter than the pixel rows its header declares";
    } else {
        img = stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &c, o.channels);
        if (!img) why = stbi_failure_reason();
    }
    if (img && (w <= 0 || h <= 0)) {  // stb "decodes" a BMP of 0 x 0 pixels; resizing it would read before it
        std::free(img);
        img = nullptr;
        why = fmt::format("it declares {} x {} pixels: an image without pixels", w, h);
    }
    if (!img) return false;
    int cx = 0, cy = 0, cw = w, ch = h;
    if (o.crop_to_aspect_ratio) {  // the largest centred box with the target's aspect ratio
        double target = static_cast<double>(o.width) / static_cast<double>(o.height);
        if (static_cast<double>(w) / h > target) cw = std::max(1, static_cast<int>(std::lround(h * target))), cx = (w - cw) / 2;
        else ch = std::max(1, static_cast<int>(std::lround(w / target))), cy = (h - ch) / 2;
    }
    resize_image(img, w, h, o.channels, dst, static_cast<int>(o.width), static_cast<int>(o.height), o.interpolation, cx, cy, cw, ch);
    std::free(img);
    return true;
}

Tensor load_image(const std::string& path, const ImageFolderOptions& o) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw UserError(path + ": no such image file");
    Tensor t({o.height, o.width, o.channels});
    std::string why;
    if (!decode_image(path, o, t.data(), why)) throw UserError(path + ": cannot decode image (" + why + ")");
    return t;
}

namespace {

void ignore(std::vector<std::string>* ignored, const std::string& path, const std::string& why) {
    if (ignored) ignored->push_back(path + " (" + why + ")");
}

// The image files under a class folder, as Keras' os.walk finds them: sub-folders entered, symbolic
// links to folders not followed (so a link loop cannot recurse), links to files taken. An entry
// with an image name that is no readable file (a dangling link, a FIFO, a folder named x.jpg) is
// reported in `ignored`, never opened.
std::vector<std::string> list_images(const fs::path& root, std::vector<std::string>* ignored) {
    static const std::vector<std::string> exts = {".jpg", ".jpeg", ".png", ".bmp", ".gif"};
    std::vector<std::string> out;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        std::string ext = it->path().extension().string();
        std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        if (std::find(exts.begin(), exts.end(), ext) == exts.end()) continue;
        std::error_code bad;
        fs::file_status st = fs::status(it->path(), bad);
        if (fs::is_regular_file(st)) out.push_back(it->path().string());
        else if (st.type() == fs::file_type::not_found) ignore(ignored, it->path().string(), "a dangling symbolic link");
        else if (bad) ignore(ignored, it->path().string(), bad.message());  // a symlink loop, say
        else if (fs::is_directory(st)) ignore(ignored, it->path().string(), "a directory");
        else ignore(ignored, it->path().string(), "not a regular file");
    }
    if (ec) throw UserError(root.string() + ": cannot list: " + ec.message());
    return out;
}

}  // namespace

ImageFiles list_image_folder(const std::string& dir, std::vector<std::string>* ignored) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw UserError(dir + ": no such directory");
    ImageFiles out;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        std::error_code bad;
        if (e.is_directory(bad)) out.classes.push_back(e.path().filename().string());
        else if (bad) ignore(ignored, e.path().string(), bad.message());  // a symlink loop, say
    }
    if (ec) throw UserError(dir + ": cannot list: " + ec.message());
    std::sort(out.classes.begin(), out.classes.end());
    if (out.classes.empty()) throw UserError(dir + ": no class folders (expected one sub-folder of images per class)");
    for (size_t k = 0; k < out.classes.size(); ++k) {
        std::vector<std::string> here = list_images(fs::path(dir) / out.classes[k], ignored);
        std::sort(here.begin(), here.end());
        for (auto& f : here) out.paths.push_back(f), out.labels.push_back(static_cast<int32_t>(k));
    }
    if (out.paths.empty()) throw UserError(dir + ": no images (.jpg, .jpeg, .png, .bmp, .gif) in its class folders");
    return out;
}

LabeledRows load_image_folder(const std::string& dir, const ImageFolderOptions& o, std::vector<std::string>* names,
                              std::vector<std::string>* skipped, std::vector<std::string>* ignored) {
    ImageFiles listed = list_image_folder(dir, ignored);
    if (names) *names = listed.classes;
    const std::vector<std::string>& files = listed.paths;
    const int64_t n = static_cast<int64_t>(files.size()), pixels = o.height * o.width * o.channels;
    LabeledRows out;
    out.x = Tensor({n, o.height, o.width, o.channels});
    out.labels = listed.labels;
    // Decode in parallel: JPEG decoding, not the disk, is the cost.
    std::atomic<int64_t> next{0};
    std::vector<std::string> errors(static_cast<size_t>(std::max(1, o.threads)));
    std::vector<char> bad(static_cast<size_t>(n), 0);
    auto work = [&](int t) {
        for (int64_t i; (i = next++) < n;) {
            std::string why;
            if (!decode_image(files[static_cast<size_t>(i)], o, out.x.data() + i * pixels, why)) {
                if (o.skip_corrupt) {
                    bad[static_cast<size_t>(i)] = 1;
                    continue;
                }
                errors[static_cast<size_t>(t)] = files[static_cast<size_t>(i)] + ": cannot decode image (" + why +
                                                 "); skip_corrupt = true leaves such files out";
                next = n;
                return;
            }
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < o.threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();
    for (const auto& e : errors)
        if (!e.empty()) throw UserError(e);
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i) {
        if (bad[static_cast<size_t>(i)]) {
            if (skipped) skipped->push_back(files[static_cast<size_t>(i)]);
            continue;
        }
        if (kept != i) std::copy(out.x.data() + i * pixels, out.x.data() + (i + 1) * pixels, out.x.data() + kept * pixels);
        out.labels[static_cast<size_t>(kept)] = out.labels[static_cast<size_t>(i)];
        ++kept;
    }
    if (kept == 0) throw UserError(dir + ": none of its images decode");
    if (kept < n) {
        LabeledRows compact;
        compact.x = Tensor({kept, o.height, o.width, o.channels});
        std::copy(out.x.data(), out.x.data() + kept * pixels, compact.x.data());
        compact.labels.assign(out.labels.begin(), out.labels.begin() + kept);
        return compact;
    }
    return out;
}

}  // namespace cnnc::rt
