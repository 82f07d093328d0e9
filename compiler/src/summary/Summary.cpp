#include "summary/Summary.h"

#include <cstdlib>

#include <fmt/format.h>

namespace cnnc {

std::string thousands(int64_t n) {
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

std::string memory_size(double bytes) {
    static const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    for (const char* u : units) {
        if (bytes / 1024 < 1) return fmt::format("{:.2f} {}", bytes, u);
        bytes /= 1024;
    }
    return fmt::format("{:.2f} PB", bytes);
}

std::string flops_text(double f) {
    static const char* units[] = {"", "K", "M", "G", "T", "P", "E"};
    double x = f;
    int u = 0;
    while (x >= 1000 && u < 6) x /= 1000, ++u;
    return u == 0 ? fmt::format("{:.0f}", f) : fmt::format("{:.2f} {}", x, units[u]);
}

namespace {

struct Row {
    std::string cells[4];
};

// Display width in terminal columns: box glyphs and "└" are one column but several bytes.
size_t width(const std::string& s) {
    size_t w = 0;
    for (unsigned char c : s) w += (c & 0xC0) != 0x80;
    return w;
}

std::string pad(const std::string& s, size_t w, bool right) {
    size_t n = width(s);
    std::string fill(w > n ? w - n : 0, ' ');
    return right ? fill + s : s + fill;
}

std::string repeat(const std::string& glyph, size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += glyph;
    return s;
}

void collect(const std::vector<LayerNode>& layers, int depth, const SummaryOptions& o, std::vector<Row>& rows) {
    for (const auto& l : layers) {
        std::string indent = depth == 0 ? "" : std::string(static_cast<size_t>(2 * (depth - 1)), ' ') + "└ ";
        Row r;
        r.cells[0] = indent + fmt::format("{} ({})", l.name, l.type);
        r.cells[1] = l.shaped ? l.out.str() : "?";
        r.cells[2] = thousands(l.param_count());
        r.cells[3] = flops_text(l.flop_count());
        rows.push_back(r);
        if (o.expand && l.is_group()) collect(l.children, depth + 1, o, rows);
    }
}

}  // namespace

std::string render_summary(const Model& m, const SummaryOptions& o) {
    std::vector<Row> rows;
    collect(m.layers, 0, o, rows);
    const char* heads[4] = {"Layer (type)", "Output Shape", "Param #", "FLOPs"};
    // Keras 3's interior widths (38, 29, 17) including one space each side; a column grows to fit
    // a long name rather than wrapping it.
    size_t w[4] = {36, 27, 15, 12};
    for (const auto& r : rows)
        for (int c = 0; c < 4; ++c) w[c] = std::max(w[c], width(r.cells[c]));
    int ncol = o.flops ? 4 : 3;
    auto line = [&](const char* l, const char* fill, const char* mid, const char* r) {
        std::string s = l;
        for (int c = 0; c < ncol; ++c) s += repeat(fill, w[c] + 2) + (c + 1 < ncol ? mid : r);
        return s + "\n";
    };
    auto cells = [&](const std::string* v, const char* bar) {
        std::string s = bar;
        for (int c = 0; c < ncol; ++c) s += " " + pad(v[c], w[c], c >= 2) + " " + bar;
        return s + "\n";
    };
    std::string head_cells[4] = {heads[0], heads[1], heads[2], heads[3]};
    std::string out = fmt::format("Model: \"{}\"\n", m.name);
    if (o.ascii) {
        auto rule = [&](char ch) {
            size_t total = 1;
            for (int c = 0; c < ncol; ++c) total += w[c] + 3;
            return std::string(total, ch) + "\n";
        };
        auto plain = [&](const std::string* v) {
            std::string s;
            for (int c = 0; c < ncol; ++c) s += " " + pad(v[c], w[c], c >= 2) + "  ";
            while (!s.empty() && s.back() == ' ') s.pop_back();
            return s + "\n";
        };
        out += rule('_') + plain(head_cells) + rule('=');
        for (size_t i = 0; i < rows.size(); ++i) out += plain(rows[i].cells) + (i + 1 < rows.size() ? rule('-') : "");
        out += rule('=');
    } else {
        out += line("┏", "━", "┳", "┓") + cells(head_cells, "┃") + line("┡", "━", "╇", "┩");
        for (size_t i = 0; i < rows.size(); ++i) out += cells(rows[i].cells, "│") + (i + 1 < rows.size() ? line("├", "─", "┼", "┤") : "");
        out += line("└", "─", "┴", "┘");
    }
    int64_t total = m.param_count(), trainable = m.trainable_count();
    auto count = [](int64_t n) { return fmt::format("{} ({})", thousands(n), memory_size(4.0 * static_cast<double>(n))); };
    out += fmt::format(" Total params: {}\n", count(total));
    out += fmt::format(" Trainable params: {}\n", count(trainable));
    out += fmt::format(" Non-trainable params: {}\n", count(total - trainable));
    out += fmt::format(" Forward FLOPs per sample: {}\n", m.shaped ? flops_text(m.flop_count()) : "?");
    return out;
}

bool locale_is_utf8() {
    const char* lang = std::getenv("LC_ALL");
    if (!lang || !*lang) lang = std::getenv("LC_CTYPE");
    if (!lang || !*lang) lang = std::getenv("LANG");
    std::string l = lang ? lang : "";
    return l.empty() || l == "C.UTF-8" || l.find("UTF-8") != std::string::npos || l.find("utf8") != std::string::npos ||
           l.find("UTF8") != std::string::npos || l.find("utf-8") != std::string::npos;
}

}  // namespace cnnc
