#include "data/Npy.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <vector>

#include "Error.h"
#include "data/Allocate.h"

namespace cnnc::rt {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .npy reader copies little-endian values as they are");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// No array np.save writes has a header anywhere near this; a larger one is damage, not data.
constexpr uint32_t kMaxHeader = 1 << 20;

// An element type the reader takes: its dtype string as NumPy writes it, its size, and whether it
// holds integers.
struct Dtype {
    const char* descr;
    int size;
    bool integer;
};
constexpr Dtype kDtypes[] = {{"<f4", 4, false}, {"<f8", 8, false}, {"|u1", 1, true}, {"<i4", 4, true}, {"<i8", 8, true}};

std::string supported() {
    std::string s;
    for (const Dtype& d : kDtypes) s += (s.empty() ? "" : ", ") + std::string(d.descr);
    return s;
}

struct File {
    std::FILE* f = nullptr;
    ~File() {
        if (f) std::fclose(f);
    }
};

struct Header {
    const Dtype* dtype = nullptr;
    std::vector<uint64_t> shape;
};

std::string shape_str(const std::vector<uint64_t>& shape) {
    std::vector<std::string> ds;
    for (uint64_t d : shape) ds.push_back(std::to_string(d));
    return "(" + fmt::format("{}", fmt::join(ds, ", ")) + (shape.size() == 1 ? ",)" : ")");
}

// The header's dict literal, {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }, read
// with the few tokens np.save writes: quoted strings, True/False and tuples of integers.
class HeaderParser {
  public:
    HeaderParser(std::string text, const std::string& path) : s_(std::move(text)), path_(path) {}

    Header parse() {
        Header h;
        bool has_descr = false, has_order = false, has_shape = false;
        expect('{');
        while (!peek('}')) {
            std::string key = quoted();
            expect(':');
            if (key == "descr") {
                h.dtype = dtype(quoted()), has_descr = true;
            } else if (key == "fortran_order") {
                std::string order = word();
                if (order == "True")
                    throw UserError(path_ + ": the array is in Fortran order; only C order is read (save np.ascontiguousarray(a))");
                if (order != "False") fail("'fortran_order' must be True or False");
                has_order = true;
            } else if (key == "shape") {
                h.shape = tuple(), has_shape = true;
            } else {
                fail(fmt::format("unknown key '{}'", key));
            }
            if (!peek('}')) expect(',');
        }
        if (!has_descr || !has_order || !has_shape) fail("it lacks 'descr', 'fortran_order' or 'shape'");
        return h;
    }

  private:
    [[noreturn]] void fail(const std::string& why) const {
        throw UserError(fmt::format("{}: not a valid .npy header ({}): {}", path_, why, s_.substr(0, 200)));
    }
    void blanks() {
        while (at_ < s_.size() && (s_[at_] == ' ' || s_[at_] == '\n' || s_[at_] == '\t')) ++at_;
    }
    bool peek(char c) {
        blanks();
        return at_ < s_.size() && s_[at_] == c;
    }
    void expect(char c) {
        if (!peek(c)) fail(fmt::format("expected '{}' at character {}", c, at_ + 1));
        ++at_;
    }
    std::string quoted() {
        blanks();
        if (at_ >= s_.size() || (s_[at_] != '\'' && s_[at_] != '"')) fail(fmt::format("expected a quoted string at character {}", at_ + 1));
        char q = s_[at_++];
        size_t end = s_.find(q, at_);
        if (end == std::string::npos) fail("a string is not closed");
        std::string v = s_.substr(at_, end - at_);
        at_ = end + 1;
        return v;
    }
    std::string word() {
        blanks();
        size_t start = at_;
        while (at_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[at_]))) ++at_;
        return s_.substr(start, at_ - start);
    }
    std::vector<uint64_t> tuple() {
        std::vector<uint64_t> dims;
        expect('(');
        while (!peek(')')) {
            uint64_t d = 0;
            size_t start = at_;
            for (; at_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[at_])); ++at_) {
                if (d > (std::numeric_limits<uint64_t>::max() - 9) / 10) fail("a dimension is too large");
                d = d * 10 + static_cast<uint64_t>(s_[at_] - '0');
            }
            if (at_ == start) fail(fmt::format("expected a dimension at character {}", at_ + 1));
            dims.push_back(d);
            if (!peek(')')) expect(',');
        }
        ++at_;
        return dims;
    }
    const Dtype* dtype(const std::string& descr) const {
        for (const Dtype& d : kDtypes)
            if (descr == d.descr) return &d;
        if (!descr.empty() && descr[0] == '>')
            throw UserError(fmt::format("{}: dtype '{}' is big-endian; only little-endian arrays are read ({}: save a.astype('{}'))", path_,
                                        descr, supported(), "<" + descr.substr(1)));
        if (descr.find('O') != std::string::npos)
            throw UserError(fmt::format("{}: an array of Python objects (dtype '{}') cannot be read; save a numeric array ({})", path_,
                                        descr, supported()));
        throw UserError(fmt::format("{}: dtype '{}' is not supported ({})", path_, descr, supported()));
    }

    std::string s_;
    const std::string& path_;
    size_t at_ = 0;
};

// An opened .npy file past its header, with the header's dtype and shape and the data's size,
// which the file's size must match exactly.
struct Opened {
    File file;
    Header header;
    uint64_t count = 0;  // elements
};

uint32_t le(const unsigned char* p, int bytes) {
    uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = v << 8 | p[i];
    return v;
}

void open_npy(const std::string& path, Opened& o) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) throw UserError(fmt::format("{}: {}", path, std::strerror(errno)));
    if (S_ISDIR(st.st_mode)) throw UserError(path + ": is a directory, not a .npy file");
    if (!S_ISREG(st.st_mode)) throw UserError(path + ": not a regular file");
    o.file.f = std::fopen(path.c_str(), "rb");
    if (!o.file.f) throw UserError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    unsigned char pre[12];
    size_t got = std::fread(pre, 1, 8, o.file.f);
    if (got < 8 || std::memcmp(pre, kMagic, kMagicSize) != 0) throw UserError(path + ": not a .npy file (no \\x93NUMPY magic string)");
    const int major = pre[6];
    if (major < 1 || major > 3) throw UserError(fmt::format("{}: .npy format version {}.{} is not supported (1.0, 2.0, 3.0)", path, major, pre[7]));
    const int len_bytes = major == 1 ? 2 : 4;
    if (std::fread(pre + 8, 1, static_cast<size_t>(len_bytes), o.file.f) != static_cast<size_t>(len_bytes))
        throw UserError(path + ": truncated in the .npy preamble");
    const uint32_t header_len = le(pre + 8, len_bytes);
    const uint64_t data_at = 8 + static_cast<uint64_t>(len_bytes) + header_len, file_size = static_cast<uint64_t>(st.st_size);
    if (header_len > kMaxHeader) throw UserError(fmt::format("{}: not a valid .npy file: it declares a {}-byte header", path, header_len));
    if (data_at > file_size)
        throw UserError(fmt::format("{}: truncated: the .npy header declares {} bytes, file has {}", path, header_len, file_size));
    std::string text(header_len, '\0');
    if (std::fread(text.data(), 1, header_len, o.file.f) != header_len) throw UserError(path + ": cannot read the .npy header");
    o.header = HeaderParser(std::move(text), path).parse();
    // The data's size from the shape, overflow-safe, must be the rest of the file exactly.
    uint64_t count = 1;
    bool overflow = false;
    for (uint64_t d : o.header.shape) {
        overflow = overflow || (d != 0 && count > std::numeric_limits<uint64_t>::max() / d);
        count *= d;
    }
    const auto item = static_cast<uint64_t>(o.header.dtype->size);
    overflow = overflow || count > std::numeric_limits<uint64_t>::max() / item;
    if (overflow || count * item != file_size - data_at)
        throw UserError(fmt::format("{}: shape {} of {} needs {} bytes of data, file has {}", path, shape_str(o.header.shape),
                                    o.header.dtype->descr, overflow ? "more than 2^64" : std::to_string(count * item),
                                    file_size - data_at));
    o.count = count;
}

// Reads the data, converting each element with `put(index, bytes)`, a chunk at a time.
template <typename Put>
void read_data(Opened& o, const std::string& path, Put put) {
    const auto item = static_cast<size_t>(o.header.dtype->size);
    std::vector<unsigned char> chunk(item * 65536);
    for (uint64_t done = 0; done < o.count;) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(65536, o.count - done));
        if (std::fread(chunk.data(), item, want, o.file.f) != want) throw UserError(path + ": cannot read (the file changed while read?)");
        for (size_t i = 0; i < want; ++i) put(done + i, chunk.data() + i * item);
        done += want;
    }
}

double value(const Dtype& t, const unsigned char* p) {
    if (t.size == 1) return *p;
    if (t.integer && t.size == 4) return static_cast<double>(static_cast<int32_t>(le(p, 4)));
    if (t.integer) {
        int64_t v;
        std::memcpy(&v, p, 8);
        return static_cast<double>(v);
    }
    if (t.size == 4) {
        float v;
        std::memcpy(&v, p, 4);
        return v;
    }
    double v;
    std::memcpy(&v, p, 8);
    return v;
}

// `n` values of dtype kDtypes[K] as the whole-array readers convert each (through value()); one
// instance per dtype, so the dtype's branch is decided at compile time.
template <int K>
void to_floats(const unsigned char* p, int64_t n, float* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(value(kDtypes[K], p + i * kDtypes[K].size));
}
constexpr void (*kToFloats[])(const unsigned char*, int64_t, float*) = {to_floats<0>, to_floats<1>, to_floats<2>, to_floats<3>,
                                                                          to_floats<4>};
static_assert(std::size(kToFloats) == std::size(kDtypes), "a converter per dtype");

// x's shape as samples (N, ...), checked.
Dims sample_dims(const Opened& o, const std::string& path) {
    const auto& shape = o.header.shape;
    if (shape.size() < 2)
        throw UserError(fmt::format("{}: x has shape {}; samples need shape (N, ...), one axis for the samples and at least one more",
                                    path, shape_str(shape)));
    Dims dims;
    for (uint64_t d : shape) {
        if (d == 0 && !dims.empty()) throw UserError(fmt::format("{}: x has shape {}: its samples hold no values", path, shape_str(shape)));
        if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) throw UserError(path + ": a dimension is too large");
        dims.push_back(static_cast<int64_t>(d));
    }
    return dims;
}

Tensor load_samples(const std::string& path) {
    Opened o;
    open_npy(path, o);
    const auto& shape = o.header.shape;
    const Dims dims = sample_dims(o, path);
    Tensor x = allocate<Tensor>(path, o.count * sizeof(float), fmt::format("samples of shape {}", shape_str(shape)), [&] { return Tensor(dims); });
    const Dtype& t = *o.header.dtype;
    read_data(o, path, [&](uint64_t i, const unsigned char* p) { x.data()[i] = static_cast<float>(value(t, p)); });
    return x;
}

}  // namespace

std::vector<int32_t> load_npy_labels(const std::string& path) {
    Opened o;
    open_npy(path, o);
    const auto& shape = o.header.shape;
    const Dtype& t = *o.header.dtype;
    if (shape.empty() || shape.size() > 2 || (shape.size() == 2 && shape[1] != 1))
        throw UserError(fmt::format("{}: y has shape {}; labels need shape (N,) or (N, 1)", path, shape_str(shape)));
    if (!t.integer)
        throw UserError(fmt::format("{}: y holds {} values; labels must be integers (|u1, <i4 or <i8)", path, t.descr));
    auto labels = allocate<std::vector<int32_t>>(path, o.count * sizeof(int32_t), fmt::format("{} labels", o.count),
                                                 [&] { return std::vector<int32_t>(static_cast<size_t>(o.count)); });
    read_data(o, path, [&](uint64_t i, const unsigned char* p) {
        double v = value(t, p);
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
            throw UserError(fmt::format("{}: label {} of sample {} (counting from 0) is out of range", path, v, i));
        labels[static_cast<size_t>(i)] = static_cast<int32_t>(v);
    });
    return labels;
}

Tensor load_npy_array(const std::string& path) {
    Opened o;
    open_npy(path, o);
    Dims dims;
    for (uint64_t d : o.header.shape) {
        if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) throw UserError(path + ": a dimension is too large");
        dims.push_back(static_cast<int64_t>(d));
    }
    if (dims.empty() || dims[0] == 0) throw UserError(fmt::format("{}: shape {}: no samples", path, shape_str(o.header.shape)));
    Tensor a = allocate<Tensor>(path, o.count * sizeof(float), fmt::format("an array of shape {}", shape_str(o.header.shape)),
                                [&] { return Tensor(dims); });
    const Dtype& t = *o.header.dtype;
    read_data(o, path, [&](uint64_t i, const unsigned char* p) { a.data()[i] = static_cast<float>(value(t, p)); });
    return a;
}

RecordLayout npy_records(const std::string& x_path) {
    Opened o;
    open_npy(x_path, o);
    Dims dims = sample_dims(o, x_path);
    if (dims[0] == 0) throw UserError(x_path + ": no samples");
    RecordLayout r;
    r.path = x_path;
    r.count = dims[0];
    r.sample.assign(dims.begin() + 1, dims.end());
    r.offset = static_cast<uint64_t>(std::ftell(o.file.f));  // open_npy stops where the data starts
    r.item = o.header.dtype->size;
    r.to_floats = kToFloats[o.header.dtype - kDtypes];
    return r;
}

LabeledRows load_npy(const std::string& x_path, const std::string& y_path) {
    LabeledRows rows;
    rows.labels = load_npy_labels(y_path);  // small: a wrong label file fails before the big read
    rows.x = load_samples(x_path);
    const auto n = static_cast<size_t>(rows.x.shape()[0]);
    if (n == 0) throw UserError(x_path + ": no samples");
    if (rows.labels.size() != n)
        throw UserError(fmt::format("{}: {} labels, but {} has {} samples", y_path, rows.labels.size(), x_path, n));
    return rows;
}

}  // namespace cnnc::rt
