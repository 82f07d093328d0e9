#include "data/Table.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "Error.h"
#include "train/Random.h"

namespace cnnc::rt {

namespace {

std::vector<std::string> split_line(const std::string& line, char d) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (char c : line) {
        if (c == '"') quoted = !quoted;
        else if (c == d && !quoted) out.push_back(cur), cur.clear();
        else if (c != '\r') cur += c;
    }
    out.push_back(cur);
    return out;
}

// A cell as an error quotes it: at most 40 characters, so a 10 MB cell does not flood the terminal.
std::string shown(const std::string& cell) {
    if (cell.size() <= 40) return "'" + cell + "'";
    return fmt::format("'{}...' ({} bytes)", cell.substr(0, 40), cell.size());
}

// A decimal number as Keras' and pandas' CSV readers take it: optional sign, digits with an
// optional fraction, an optional exponent. strtod alone would also take "0x10", "nan" and "inf".
// Returns "" or why the cell is not such a number.
std::string parse_number(const std::string& s, double& v) {
    size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    if (b == std::string::npos) return "empty cell";
    std::string t = s.substr(b, e - b + 1);
    size_t i = t[0] == '-' || t[0] == '+' ? 1 : 0, digits = 0;
    auto digit = [&](size_t k) { return k < t.size() && t[k] >= '0' && t[k] <= '9'; };
    while (digit(i)) ++i, ++digits;
    if (i < t.size() && t[i] == '.')
        for (++i; digit(i); ++i) ++digits;
    if (digits > 0 && i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
        size_t k = i + 1 + (i + 1 < t.size() && (t[i + 1] == '-' || t[i + 1] == '+'));
        if (digit(k)) {
            i = k;
            while (digit(i)) ++i;
        }
    }
    if (digits == 0 || i != t.size()) {
        std::string lower;
        for (char c : t) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower.find("nan") != std::string::npos || lower.find("inf") != std::string::npos)
            return shown(t) + " is not a finite number";
        return shown(t) + " is not a decimal number";
    }
    errno = 0;
    v = std::strtod(t.c_str(), nullptr);
    if (errno == ERANGE && !std::isfinite(v)) return shown(t) + " is out of range";
    return "";
}

// The file as a stream, or an error saying why it cannot be read (a directory, say).
std::ifstream open(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw UserError(path + ": is a directory, not a file");
    std::ifstream in(path);
    if (!in) throw UserError(path + ": cannot open (no such file, or not readable)");
    return in;
}

int32_t to_label(double v, const std::string& where) {
    if (v != std::floor(v) || v < 0 || v > 1e6) throw UserError(where + ": a label must be a non-negative integer, got " + fmt::format("{}", v));
    return static_cast<int32_t>(v);
}

// The next line, without the UTF-8 byte order mark some editors put before the first one.
bool next_line(std::istream& in, std::string& line, int64_t& line_no) {
    if (!std::getline(in, line)) return false;
    if (++line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    return true;
}

}  // namespace

LabeledRows load_csv(const std::string& path, const CsvOptions& o) {
    std::ifstream in = open(path);
    std::string line;
    int64_t line_no = 0, columns = -1, label_col = -1;
    std::vector<float> values;
    LabeledRows out;
    while (next_line(in, line, line_no)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        auto cells = split_line(line, o.delimiter);
        if (columns < 0) {
            columns = static_cast<int64_t>(cells.size());
            if (columns < 2) throw UserError(fmt::format("{}:{}: a CSV needs a label and at least one feature column", path, line_no));
            if (!o.label_name.empty()) {
                if (!o.header) throw UserError(path + ": label = \"" + o.label_name + "\" names a column, but header = false");
                for (int64_t i = 0; i < columns; ++i)
                    if (cells[static_cast<size_t>(i)] == o.label_name) label_col = i;
                if (label_col < 0) throw UserError(fmt::format("{}: no column named '{}' in the header", path, o.label_name));
            } else {
                label_col = o.label_index < 0 ? columns + o.label_index : o.label_index;
                if (label_col < 0 || label_col >= columns)
                    throw UserError(fmt::format("{}: label column {} does not exist (the file has {} columns)", path, o.label_index, columns));
            }
            if (o.header) continue;
        }
        if (static_cast<int64_t>(cells.size()) != columns)
            throw UserError(fmt::format("{}:{}: {} columns, expected {}", path, line_no, cells.size(), columns));
        for (int64_t i = 0; i < columns; ++i) {
            double v = 0;
            if (std::string why = parse_number(cells[static_cast<size_t>(i)], v); !why.empty())
                throw UserError(fmt::format("{}:{}: column {}: {}", path, line_no, i + 1, why));
            if (i == label_col) out.labels.push_back(to_label(v, fmt::format("{}:{}", path, line_no)));
            else values.push_back(static_cast<float>(v));
        }
        out.lines.push_back(line_no);
    }
    int64_t n = static_cast<int64_t>(out.labels.size());
    if (n == 0) throw UserError(path + ": no data rows");
    int64_t features = columns - 1;
    Dims per = o.shape.empty() ? Dims{features} : o.shape;
    if (product(per) != features)
        throw UserError(fmt::format("{}: rows have {} features, which do not fit shape {}", path, features, dims_str(per)));
    Dims shape = {n};
    shape.insert(shape.end(), per.begin(), per.end());
    out.x = Tensor(shape);
    std::copy(values.begin(), values.end(), out.x.data());
    return out;
}

LabeledRows load_sequences(const std::string& path, const SequenceOptions& o) {
    std::ifstream in = open(path);
    std::string line;
    int64_t line_no = 0;
    std::vector<std::vector<int64_t>> seqs;
    LabeledRows out;
    while (next_line(in, line, line_no)) {
        std::istringstream ss(line);
        std::string tok;
        std::vector<int64_t> ids;
        bool first = true;
        while (ss >> tok) {
            double v = 0;
            std::string why = parse_number(tok, v);
            if (why.empty() && (v != std::floor(v) || v < 0 || v >= 9007199254740992.0))  // 2^53: exact as a double
                why = shown(tok) + " is not a token id (a non-negative integer)";
            if (!why.empty()) throw UserError(fmt::format("{}:{}: {}", path, line_no, why));
            if (first) out.labels.push_back(to_label(v, fmt::format("{}:{}", path, line_no)));
            else ids.push_back(o.max_features > 0 && v >= static_cast<double>(o.max_features) ? 2 : static_cast<int64_t>(v));
            first = false;
        }
        if (!first) seqs.push_back(std::move(ids)), out.lines.push_back(line_no);
    }
    int64_t n = static_cast<int64_t>(seqs.size());
    if (n == 0) throw UserError(path + ": no sequences");
    out.x = Tensor({n, o.max_len});
    out.x.fill(0);  // Keras pads with 0
    for (int64_t i = 0; i < n; ++i) {
        auto& s = seqs[static_cast<size_t>(i)];
        int64_t len = static_cast<int64_t>(s.size());
        int64_t keep = std::min(len, o.max_len);
        int64_t from = o.truncate_post ? 0 : len - keep;  // 'pre' truncation drops the beginning
        int64_t to = o.pad_post ? 0 : o.max_len - keep;    // 'pre' padding puts zeros first
        for (int64_t k = 0; k < keep; ++k) out.x[i * o.max_len + to + k] = static_cast<float>(s[static_cast<size_t>(from + k)]);
    }
    return out;
}

std::vector<int64_t> subset_order(int64_t n, double fraction, bool validation, uint64_t seed, bool shuffle) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    Rng rng(derive_seed(seed, 11));
    for (int64_t i = n - 1; shuffle && i > 0; --i)
        std::swap(order[static_cast<size_t>(i)], order[rng.below(static_cast<uint64_t>(i + 1))]);
    // Keras' get_training_or_validation_split: int(validation_split * n) validation samples.
    int64_t split = n - static_cast<int64_t>(fraction * static_cast<double>(n));
    int64_t begin = validation ? split : 0, end = validation ? n : split;
    if (end <= begin) throw UserError("validation_split leaves no samples in the " + std::string(validation ? "validation" : "training") + " subset");
    return std::vector<int64_t>(order.begin() + begin, order.begin() + end);
}

LabeledRows take_rows(const LabeledRows& all, const std::vector<int64_t>& picked) {
    const int64_t n = static_cast<int64_t>(all.labels.size());
    int64_t row = all.x.size() / std::max<int64_t>(n, 1);
    LabeledRows out;
    Dims shape = all.x.shape();
    shape[0] = static_cast<int64_t>(picked.size());
    out.x = Tensor(shape);
    for (size_t i = 0; i < picked.size(); ++i) {
        int64_t src = picked[i];
        std::copy(all.x.data() + src * row, all.x.data() + (src + 1) * row, out.x.data() + static_cast<int64_t>(i) * row);
        out.labels.push_back(all.labels[static_cast<size_t>(src)]);
        if (!all.lines.empty()) out.lines.push_back(all.lines[static_cast<size_t>(src)]);
    }
    return out;
}

LabeledRows take_subset(const LabeledRows& all, double fraction, bool validation, uint64_t seed, bool shuffle) {
    return take_rows(all, subset_order(static_cast<int64_t>(all.labels.size()), fraction, validation, seed, shuffle));
}

}  // namespace cnnc::rt
