#include "io/StateFile.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include "Error.h"
#include "io/AtomicFile.h"

namespace cnnc::rt {

static const char kMagic[] = "CNNCSTATE1\n";

double StateFile::scalar(const std::string& n) const {
    auto it = scalars_.find(n);
    if (it == scalars_.end()) throw UserError(path_ + ": the saved state has no '" + n + "' (a different model or version?)");
    return it->second;
}

const Tensor& StateFile::tensor(const std::string& n) const {
    auto it = tensors_.find(n);
    if (it == tensors_.end()) throw UserError(path_ + ": the saved state has no '" + n + "' (a different model or version?)");
    return it->second;
}

const std::string& StateFile::text(const std::string& n) const {
    auto it = texts_.find(n);
    if (it == texts_.end()) throw UserError(path_ + ": the saved state has no '" + n + "' (a different model or version?)");
    return it->second;
}

namespace {
template <class T>
void put_raw(std::string& out, const T& v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
void put_name(std::string& out, const std::string& s) {
    put_raw(out, static_cast<uint64_t>(s.size()));
    out += s;
}
}  // namespace

void StateFile::save(const std::string& path) const {
    std::string out = kMagic;
    for (const auto& [n, v] : scalars_) {
        out += 'S';
        put_name(out, n);
        put_raw(out, v);
    }
    for (const auto& [n, t] : tensors_) {
        out += 'T';
        put_name(out, n);
        put_raw(out, static_cast<uint64_t>(t.shape().size()));
        for (int64_t d : t.shape()) put_raw(out, d);
        out.append(reinterpret_cast<const char*>(t.data()), static_cast<size_t>(t.size()) * sizeof(float));
    }
    for (const auto& [n, s] : texts_) {
        out += 'X';
        put_name(out, n);
        put_name(out, s);
    }
    write_file_atomically(path, out);
}

StateFile StateFile::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UserError(path + ": no saved state to resume from");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string data = ss.str();
    StateFile f;
    f.path_ = path;
    size_t pos = std::strlen(kMagic);
    if (data.compare(0, pos, kMagic) != 0) throw UserError(path + ": not a cnnc training state file");
    auto corrupt = [&](const std::string& what) { return UserError(path + ": corrupt training state file (" + what + ")"); };
    // Every count comes from the file: compared with the bytes left, never added to `pos`, so no
    // declared size can overflow the check.
    auto need = [&](uint64_t n) {
        if (n > data.size() - pos) throw UserError(path + ": truncated training state file");
    };
    auto get_u64 = [&]() {
        need(8);
        uint64_t v;
        std::memcpy(&v, data.data() + pos, 8);
        pos += 8;
        return v;
    };
    auto get_str = [&]() {
        uint64_t n = get_u64();
        need(n);
        std::string s = data.substr(pos, n);
        pos += n;
        return s;
    };
    while (pos < data.size()) {
        char kind = data[pos++];
        std::string name = get_str();
        if (kind == 'S') {
            need(8);
            double v;
            std::memcpy(&v, data.data() + pos, 8);
            pos += 8;
            // Infinity is a value (a callback's best before any epoch); NaN never is.
            if (std::isnan(v) && name.rfind("history/", 0) != 0) throw corrupt("'" + name + "' is NaN");
            f.scalars_[name] = v;
        } else if (kind == 'T') {
            uint64_t rank = get_u64();
            if (rank > 16) throw corrupt("'" + name + "' has rank " + std::to_string(rank));
            Dims dims;
            uint64_t elements = 1;
            const uint64_t room = (data.size() - pos) / sizeof(float);
            for (uint64_t i = 0; i < rank; ++i) {
                uint64_t d = get_u64();
                if (d > static_cast<uint64_t>(INT64_MAX)) throw corrupt("'" + name + "' has a negative dimension");
                // elements * d <= room, without computing a product that may overflow.
                if (d != 0 && elements > room / d) throw UserError(path + ": truncated training state file ('" + name + "' declares more data than the file holds)");
                elements *= d;
                dims.push_back(static_cast<int64_t>(d));
            }
            need(elements * sizeof(float));
            Tensor t(dims);
            if (elements > 0) std::memcpy(t.data(), data.data() + pos, elements * sizeof(float));  // an empty tensor has no buffer
            pos += elements * sizeof(float);
            for (int64_t i = 0; i < t.size(); ++i)
                if (!std::isfinite(t[i])) throw corrupt("'" + name + "' holds " + (std::isnan(t[i]) ? "NaN" : "an infinite value"));
            f.tensors_[name] = std::move(t);
        } else if (kind == 'X') {
            f.texts_[name] = get_str();
        } else {
            throw corrupt("unknown record");
        }
    }
    return f;
}

}  // namespace cnnc::rt
