#include "data/Idx.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "Error.h"

namespace cnnc::rt {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions (count, rows, columns)
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension (count)
constexpr size_t kImagesHeader = 16;           // magic + 3 dimension sizes
constexpr size_t kLabelsHeader = 8;            // magic + 1 dimension size

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Whether `path` names something; an error other than "not there" (a permission problem, say) is
// reported as is rather than as a missing file.
bool exists(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    throw UserError(fmt::format("{}: {}", path, std::strerror(errno)));
}

// The file to read for `path`: itself, else its gzipped or plain twin, because MNIST is published
// both ways and users pass whichever name they remember.
std::string resolve(const std::string& path) {
    if (exists(path)) return path;
    std::string twin = ends_with(path, ".gz") ? path.substr(0, path.size() - 3) : path + ".gz";
    if (exists(twin)) return twin;
    throw UserError(fmt::format("{}: no such file (nor {})", path, twin));
}

// zlib's messages already start with the path gzopen was given; ours put it first once.
[[noreturn]] void gzip_failure(gzFile f, const std::string& path) {
    int err = Z_OK;
    std::string msg = gzerror(f, &err);
    if (msg.rfind(path + ": ", 0) == 0) msg.erase(0, path.size() + 2);
    if (err == Z_ERRNO) throw UserError(fmt::format("{}: cannot read: {}", path, msg));
    throw UserError(fmt::format("{}: corrupt gzip stream: {}", path, msg));
}

// The whole file, decompressed when it is gzip. zlib reads a plain file transparently, so one path
// serves both; a damaged gzip stream must still be an error rather than silently short data, hence
// the gzerror check after the last read.
std::vector<unsigned char> read_all(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) throw UserError(fmt::format("{}: {}", path, std::strerror(errno)));
    if (S_ISDIR(st.st_mode)) throw UserError(fmt::format("{}: is a directory, not an IDX file", path));

    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw UserError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    struct Close {
        gzFile f;
        ~Close() { gzclose(f); }
    } close{f};
    gzbuffer(f, 1 << 20);  // fewer, larger reads; must precede the first read

    // Sized so a plain file arrives in one read, plus a byte so that read does not fill the buffer
    // and force a pointless doubling just to see the end. A gzip file grows from there by doubling.
    std::vector<unsigned char> buf(static_cast<size_t>(st.st_size) + 1);
    size_t have = 0;
    for (;;) {
        if (have == buf.size()) buf.resize(buf.size() * 2);
        auto want = static_cast<unsigned>(std::min<size_t>(buf.size() - have, size_t{1} << 30));
        int n = gzread(f, buf.data() + have, want);
        if (n < 0) gzip_failure(f, path);
        if (n == 0) break;
        have += static_cast<size_t>(n);
    }
    int err = Z_OK;
    gzerror(f, &err);
    if (err != Z_OK) gzip_failure(f, path);  // Z_BUF_ERROR: the gzip stream stops mid-way
    buf.resize(have);
    return buf;
}

uint32_t be32(const unsigned char* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

// For a wrong magic number: what the file is instead, when that can be told.
std::string what_it_is(uint32_t magic) {
    if (magic == kImagesMagic) return " (this is an IDX image file; are the image and label paths swapped?)";
    if (magic == kLabelsMagic) return " (this is an IDX label file; are the image and label paths swapped?)";
    if (magic >> 16 != 0) return "";
    const char* type = nullptr;
    switch ((magic >> 8) & 0xff) {
        case 0x08: type = "unsigned bytes"; break;
        case 0x09: type = "signed bytes"; break;
        case 0x0B: type = "16-bit integers"; break;
        case 0x0C: type = "32-bit integers"; break;
        case 0x0D: type = "32-bit floats"; break;
        case 0x0E: type = "64-bit floats"; break;
        default: return "";
    }
    return fmt::format(" (an IDX file of {} in {} dimensions)", type, magic & 0xff);
}

// Checks the magic number and that the header is all there.
void check_header(const std::string& path, const std::vector<unsigned char>& bytes, uint32_t magic,
                  size_t header_size, const char* kind) {
    if (bytes.size() >= 4 && be32(bytes.data()) != magic) {
        uint32_t found = be32(bytes.data());
        throw UserError(fmt::format("{}: not an IDX {} file: magic number 0x{:08x}, expected 0x{:08x}{}", path, kind,
                                    found, magic, what_it_is(found)));
    }
    if (bytes.size() < header_size) {
        throw UserError(fmt::format("{}: truncated: the IDX {} header is {} bytes, file has {}",
                                    path, kind, header_size, bytes.size()));
    }
}

void check_length(const std::string& path, uint64_t promised, uint64_t found, const char* what) {
    if (found == promised) return;
    throw UserError(fmt::format("{}: {}: header promises {} bytes of {}, file has {}", path,
                                found < promised ? "truncated" : "too long", promised, what, found));
}

std::vector<int32_t> load_labels(const std::string& path) {
    std::vector<unsigned char> bytes = read_all(path);
    check_header(path, bytes, kLabelsMagic, kLabelsHeader, "label");
    uint64_t n = be32(bytes.data() + 4);
    check_length(path, n, bytes.size() - kLabelsHeader, "labels");
    return std::vector<int32_t>(bytes.begin() + kLabelsHeader, bytes.end());
}

Tensor load_images(const std::string& path) {
    std::vector<unsigned char> bytes = read_all(path);
    check_header(path, bytes, kImagesMagic, kImagesHeader, "image");
    uint64_t n = be32(bytes.data() + 4), rows = be32(bytes.data() + 8), cols = be32(bytes.data() + 12);
    uint64_t found = bytes.size() - kImagesHeader;
    // A hostile header can promise more than 2^64 bytes; such a file is certainly truncated.
    if (rows * cols != 0 && n > std::numeric_limits<uint64_t>::max() / (rows * cols)) {
        throw UserError(fmt::format("{}: truncated: header promises {} images of {}x{} pixels, file has {} bytes",
                                    path, n, rows, cols, found));
    }
    check_length(path, n * rows * cols, found, "pixels");

    Tensor images({static_cast<int64_t>(n), static_cast<int64_t>(rows), static_cast<int64_t>(cols), 1});
    const unsigned char* in = bytes.data() + kImagesHeader;
    float* out = images.data();
    for (uint64_t i = 0; i < found; ++i) out[i] = static_cast<float>(in[i]);  // one vectorised pass
    return images;
}

}  // namespace

LabeledImages load_idx(const std::string& images_path, const std::string& labels_path) {
    // Labels first: they are small, so a wrong or missing label file fails before the big read.
    std::string labels_file = resolve(labels_path);
    std::string images_file = resolve(images_path);
    LabeledImages out;
    out.labels = load_labels(labels_file);
    out.images = load_images(images_file);
    auto n_images = static_cast<size_t>(out.images.shape()[0]);
    if (out.labels.size() != n_images) {
        throw UserError(fmt::format("{}: {} labels, but {} has {} images", labels_file, out.labels.size(), images_file,
                                    n_images));
    }
    return out;
}

}  // namespace cnnc::rt
