#include "summary/Table.h"

#include <algorithm>

namespace cnnc {

namespace {

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

size_t height(const std::vector<Cell>& row) {
    size_t h = 1;
    for (const auto& c : row) h = std::max(h, c.size());
    return h;
}

}  // namespace

std::string render_table(const std::vector<Column>& columns, const std::vector<std::vector<Cell>>& rows, bool ascii) {
    const size_t ncol = columns.size();
    std::vector<size_t> w;
    for (const auto& c : columns) w.push_back(c.width);
    for (const auto& r : rows)
        for (size_t c = 0; c < ncol; ++c)
            for (const auto& l : r[c]) w[c] = std::max(w[c], width(l));
    std::vector<Cell> head;
    for (const auto& c : columns) head.push_back({c.head});

    // A row's lines: line i of each cell, blank where a cell has fewer lines.
    auto row_lines = [&](const std::vector<Cell>& row, auto&& line_of) {
        std::string s;
        for (size_t i = 0; i < height(row); ++i) {
            std::vector<std::string> v;
            for (size_t c = 0; c < ncol; ++c) v.push_back(i < row[c].size() ? row[c][i] : "");
            s += line_of(v);
        }
        return s;
    };
    std::string out;
    if (ascii) {
        size_t total = 1;
        for (size_t c = 0; c < ncol; ++c) total += w[c] + 3;
        auto rule = [&](char ch) { return std::string(total, ch) + "\n"; };
        auto plain = [&](const std::vector<std::string>& v) {
            std::string s;
            for (size_t c = 0; c < ncol; ++c) s += " " + pad(v[c], w[c], columns[c].right) + "  ";
            while (!s.empty() && s.back() == ' ') s.pop_back();
            return s + "\n";
        };
        out += rule('_') + row_lines(head, plain) + rule('=');
        for (size_t i = 0; i < rows.size(); ++i) out += row_lines(rows[i], plain) + (i + 1 < rows.size() ? rule('-') : "");
        return out + rule('=');
    }
    auto line = [&](const char* l, const char* fill, const char* mid, const char* r) {
        std::string s = l;
        for (size_t c = 0; c < ncol; ++c) s += repeat(fill, w[c] + 2) + (c + 1 < ncol ? mid : r);
        return s + "\n";
    };
    auto cells = [&](const char* bar) {
        return [&, bar](const std::vector<std::string>& v) {
            std::string s = bar;
            for (size_t c = 0; c < ncol; ++c) s += " " + pad(v[c], w[c], columns[c].right) + " " + bar;
            return s + "\n";
        };
    };
    out += line("┏", "━", "┳", "┓") + row_lines(head, cells("┃")) + line("┡", "━", "╇", "┩");
    for (size_t i = 0; i < rows.size(); ++i) out += row_lines(rows[i], cells("│")) + (i + 1 < rows.size() ? line("├", "─", "┼", "┤") : "");
    return out + line("└", "─", "┴", "┘");
}

}  // namespace cnnc
