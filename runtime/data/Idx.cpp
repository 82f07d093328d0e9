#include "data/Idx.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "Error.h"
#include "data/Allocate.h"

namespace cnnc::rt {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions (count, rows, columns)
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension (count)

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

// An IDX file opened for streaming: zlib reads a plain file transparently, so one reader serves
// both. Nothing is read whole before the header's sizes are checked: a small gzip file can declare
// (and even hold) gigabytes.
class IdxReader {
  public:
    explicit IdxReader(const std::string& path) : path_(path) {
        struct stat st;
        if (::stat(path.c_str(), &st) != 0) throw UserError(fmt::format("{}: {}", path, std::strerror(errno)));
        if (S_ISDIR(st.st_mode)) throw UserError(fmt::format("{}: is a directory, not an IDX file", path));
        if (!S_ISREG(st.st_mode)) throw UserError(fmt::format("{}: not a regular file", path));
        file_size_ = static_cast<uint64_t>(st.st_size);
        f_ = gzopen(path.c_str(), "rb");
        if (!f_) throw UserError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
        gzbuffer(f_, 1 << 20);  // fewer, larger reads; must precede the first read
        direct_ = gzdirect(f_) != 0;  // peeks at the first bytes: plain, or gzip
    }
    ~IdxReader() { gzclose(f_); }
    bool plain() const { return direct_; }
    uint64_t file_size() const { return file_size_; }
    IdxReader(const IdxReader&) = delete;
    IdxReader& operator=(const IdxReader&) = delete;

    // Up to `want` bytes; fewer only at the end of the data. A damaged gzip stream is an error
    // rather than silently short data, hence the gzerror check at the end.
    size_t read(unsigned char* dst, size_t want) {
        size_t have = 0;
        while (have < want) {
            auto chunk = static_cast<unsigned>(std::min<size_t>(want - have, size_t{1} << 30));
            int n = gzread(f_, dst + have, chunk);
            if (n < 0) gzip_failure(f_, path_);
            if (n == 0) break;
            have += static_cast<size_t>(n);
        }
        if (have < want) {
            int err = Z_OK;
            gzerror(f_, &err);
            if (err != Z_OK) gzip_failure(f_, path_);  // Z_BUF_ERROR: the gzip stream stops mid-way
        }
        return have;
    }

    // Why the file cannot hold `bytes` of payload after a `header`-byte header, or "" when it can:
    // a plain file holds its size; gzip at most deflate's largest expansion (1032:1) of its size.
    std::string cannot_hold(uint64_t bytes, uint64_t header) const {
        if (direct_) {
            uint64_t payload = file_size_ > header ? file_size_ - header : 0;
            return bytes > payload ? fmt::format("file has {}", payload) : "";
        }
        if (file_size_ > std::numeric_limits<uint64_t>::max() / 1032 || bytes / 1032 <= file_size_) return "";
        return fmt::format("more than a {}-byte gzip file can hold", file_size_);
    }

    // After the declared payload: anything more is an error, not silently ignored.
    void expect_end(uint64_t declared, const char* what) {
        unsigned char extra[4096];
        size_t n = read(extra, sizeof extra);
        if (n == 0) return;
        uint64_t more = n;
        while ((n = read(extra, sizeof extra)) > 0) more += n;
        throw UserError(fmt::format("{}: too long: header promises {} bytes of {}, file has {}", path_, declared, what, declared + more));
    }

  private:
    std::string path_;
    gzFile f_ = nullptr;
    uint64_t file_size_ = 0;
    bool direct_ = true;
};

// Reads the header (magic number and dimension sizes) and checks the magic.
std::vector<uint64_t> read_header(IdxReader& r, const std::string& path, uint32_t magic, size_t dims, const char* kind) {
    unsigned char h[16];
    size_t header = 4 + 4 * dims, n = r.read(h, header);
    if (n >= 4 && be32(h) != magic) {
        uint32_t found = be32(h);
        throw UserError(fmt::format("{}: not an IDX {} file: magic number 0x{:08x}, expected 0x{:08x}{}", path, kind, found,
                                    magic, what_it_is(found)));
    }
    if (n < header) throw UserError(fmt::format("{}: truncated: the IDX {} header is {} bytes, file has {}", path, kind, header, n));
    std::vector<uint64_t> out;
    for (size_t i = 0; i < dims; ++i) out.push_back(be32(h + 4 + 4 * i));
    return out;
}

// The payload the header declares, checked before anything is allocated: its product must not
// overflow, and the file must be able to hold it.
uint64_t declared_bytes(const IdxReader& r, const std::string& path, const std::vector<uint64_t>& dims, const char* what) {
    uint64_t total = 1;
    bool overflow = false;
    for (uint64_t d : dims) {
        overflow = overflow || (d != 0 && total > std::numeric_limits<uint64_t>::max() / d);
        total *= d;
    }
    std::string why = overflow ? "more than 2^64" : r.cannot_hold(total, 4 + 4 * dims.size());
    if (why.empty()) return total;
    std::vector<std::string> ds;
    for (uint64_t d : dims) ds.push_back(std::to_string(d));
    throw UserError(fmt::format("{}: truncated: header promises {} bytes of {}, {}", path,
                                overflow ? fmt::format("{}", fmt::join(ds, "x")) : std::to_string(total), what, why));
}

// Streams `count` payload bytes into `out`, a chunk at a time, then checks that nothing follows.
template <typename Out>
void read_payload(IdxReader& r, const std::string& path, uint64_t count, Out* out, const char* what) {
    std::vector<unsigned char> chunk(size_t{1} << 20);
    uint64_t done = 0;
    while (done < count) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), count - done));
        size_t n = r.read(chunk.data(), want);
        for (size_t i = 0; i < n; ++i) out[done + i] = static_cast<Out>(chunk[i]);  // one vectorised pass
        done += n;
        if (n < want) throw UserError(fmt::format("{}: truncated: header promises {} bytes of {}, file has {}", path, count, what, done));
    }
    r.expect_end(count, what);
}

// Pixels as read_payload converts them.
void pixels(const unsigned char* p, int64_t n, float* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(p[i]);
}

std::vector<int32_t> load_labels(const std::string& path) {
    IdxReader r(path);
    auto dims = read_header(r, path, kLabelsMagic, 1, "label");
    uint64_t n = declared_bytes(r, path, dims, "labels");
    auto labels = allocate<std::vector<int32_t>>(path, n * sizeof(int32_t), fmt::format("{} labels", n),
                                                 [&] { return std::vector<int32_t>(static_cast<size_t>(n)); });
    read_payload(r, path, n, labels.data(), "labels");
    return labels;
}

// An image file's header, (count, rows, cols), and its payload's bytes, checked. An image of no
// pixels, or of more than 2^31, is an error: with count 0 or a zero side the payload check passes,
// and count x rows, or a sample's rows x cols, would overflow the tensors' int64 sizes.
struct ImageHeader {
    std::vector<uint64_t> dims;
    uint64_t bytes;
};
ImageHeader read_image_header(IdxReader& r, const std::string& path) {
    auto dims = read_header(r, path, kImagesMagic, 3, "image");
    const uint64_t bytes = declared_bytes(r, path, dims, "pixels");
    if (dims[1] == 0 || dims[2] == 0 || dims[1] * dims[2] > (uint64_t{1} << 31))
        throw UserError(fmt::format("{}: the IDX header declares images of {}x{} pixels; an image has 1 to 2^31 pixels", path,
                                    dims[1], dims[2]));
    return {dims, bytes};
}

Tensor load_images(const std::string& path) {
    IdxReader r(path);
    const ImageHeader h = read_image_header(r, path);
    const std::vector<uint64_t>& dims = h.dims;
    const uint64_t n = h.bytes;
    std::string what = fmt::format("{} images of {}x{} pixels", dims[0], dims[1], dims[2]);
    auto images = allocate<Tensor>(path, n * sizeof(float), what, [&] {
        return Tensor({static_cast<int64_t>(dims[0]), static_cast<int64_t>(dims[1]), static_cast<int64_t>(dims[2]), 1});
    });
    read_payload(r, path, n, images.data(), "pixels");
    return images;
}

}  // namespace

RecordLayout idx_records(const std::string& images_path) {
    const std::string path = resolve(images_path);
    IdxReader r(path);
    const auto [dims, n] = read_image_header(r, path);
    RecordLayout out;
    out.path = path;
    out.count = static_cast<int64_t>(dims[0]);
    out.sample = {static_cast<int64_t>(dims[1]), static_cast<int64_t>(dims[2]), 1};
    out.offset = 16;
    out.to_floats = pixels;
    if (!r.plain()) {
        out.unseekable = path + ": a gzipped IDX file cannot be read at random; gunzip it to stream it, or leave out `cache` to read it "
                                "whole";
        return out;
    }
    if (r.file_size() != 16 + n)
        throw UserError(fmt::format("{}: too long: header promises {} bytes of pixels, file has {}", path, n, r.file_size() - 16));
    return out;
}

std::vector<int32_t> load_idx_labels(const std::string& labels_path) { return load_labels(resolve(labels_path)); }

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
