#include "train/History.h"

#include <fmt/format.h>

#include <algorithm>

#include "io/AtomicFile.h"

namespace cnnc::rt {
namespace {

// RFC 4180 quoting, needed only if a metric name ever holds a comma, quote or line break.
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

}  // namespace

void History::add(int epoch, const Metrics& m) { epochs_.emplace_back(epoch, m); }

std::string History::csv() const {
    std::vector<std::string> names;
    for (const auto& [epoch, metrics] : epochs_) {
        for (const auto& [name, value] : metrics) {
            if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
        }
    }
    std::string out = "epoch";
    for (const auto& name : names) out += "," + csv_field(name);
    out += '\n';
    for (const auto& [epoch, metrics] : epochs_) {
        out += std::to_string(epoch);
        for (const auto& name : names) {
            out += ',';
            auto it = std::find_if(metrics.begin(), metrics.end(), [&](const auto& m) { return m.first == name; });
            if (it != metrics.end()) out += fmt::format("{}", it->second);
        }
        out += '\n';
    }
    return out;
}

void History::write_csv(const std::string& path) const { write_file_atomically(path, csv()); }

}  // namespace cnnc::rt
