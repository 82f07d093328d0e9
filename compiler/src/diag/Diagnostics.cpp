#include "diag/Diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace cnnc {

Diagnostic& Diagnostics::error(SrcLoc loc, std::string msg) {
    // A block used twice or a repeat body reports the same problem at the same place once.
    for (Diagnostic& d : list_)
        if (d.severity == Severity::Error && d.loc.file == loc.file && d.loc.line == loc.line && d.loc.col == loc.col &&
            d.message == msg)
            return d;
    ++errors_;
    list_.push_back({Severity::Error, loc, std::move(msg), {}});
    return list_.back();
}

Diagnostic& Diagnostics::warning(SrcLoc loc, std::string msg) {
    list_.push_back({Severity::Warning, loc, std::move(msg), {}});
    return list_.back();
}

void Diagnostics::add(const Diagnostic& d) {
    if (d.severity == Severity::Error) ++errors_;
    list_.push_back(d);
}

std::vector<Diagnostic> Diagnostics::sorted() const {
    std::vector<Diagnostic> v = list_;
    std::stable_sort(v.begin(), v.end(), [](const Diagnostic& a, const Diagnostic& b) {
        auto key = [](const SrcLoc& l) { return std::make_tuple(l.file, l.line, l.col); };
        return key(a.loc) < key(b.loc);
    });
    return v;
}

static const char* severity_word(Severity s) {
    switch (s) {
        case Severity::Error: return "error";
        case Severity::Warning: return "warning";
        case Severity::Note: return "note";
    }
    return "error";
}

static std::string headline(const SourceManager& sm, const Diagnostic& d) {
    if (!d.loc.valid()) return fmt::format("cnnc: {}: {}", severity_word(d.severity), d.message);
    return fmt::format("{}:{}:{}: {}: {}", sm.file(d.loc.file).path, d.loc.line, d.loc.col,
                       severity_word(d.severity), d.message);
}

static void render_diagnostic(const SourceManager& sm, const Diagnostic& d, std::string& out) {
    out += headline(sm, d);
    out += '\n';
    if (d.loc.valid()) {
        std::string_view line = sm.file(d.loc.file).line(d.loc.line);
        int col = d.loc.col;
        // Show a window of a very long line around the column, not the whole line.
        constexpr int kWindow = 60;
        std::string clipped;
        if (line.size() > 2 * kWindow + 20) {
            size_t from = col - 1 > kWindow ? static_cast<size_t>(col - 1 - kWindow) : 0;
            clipped = (from > 0 ? "..." : "") + std::string(line.substr(from, 2 * kWindow)) + "...";
            col = col - static_cast<int>(from) + (from > 0 ? 3 : 0);
            line = clipped;
        }
        std::string gutter = fmt::format("{:>5}", d.loc.line);
        out += fmt::format("{} | {}\n", gutter, line);
        // The caret line copies tabs from the source so the caret lands under the right column.
        std::string pad;
        for (int i = 0; i < col - 1 && static_cast<size_t>(i) < line.size(); ++i)
            pad += line[static_cast<size_t>(i)] == '\t' ? '\t' : ' ';
        int len = std::max(1, std::min<int>(d.loc.len, static_cast<int>(line.size()) - (col - 1)));
        out += fmt::format("{} | {}^{}\n", std::string(gutter.size(), ' '), pad, std::string(static_cast<size_t>(len - 1), '~'));
    }
    for (const Diagnostic& n : d.notes) render_diagnostic(sm, n, out);
}

std::string Diagnostics::render(bool) const {
    std::string out;
    for (const Diagnostic& d : sorted()) render_diagnostic(sm_, d, out);
    if (errors_ > 0) out += fmt::format("{} error{} generated.\n", errors_, errors_ == 1 ? "" : "s");
    return out;
}

std::string Diagnostics::render_one(const Diagnostic& d) const {
    std::string out;
    render_diagnostic(sm_, d, out);
    return out;
}

std::vector<std::string> Diagnostics::headlines() const {
    std::vector<std::string> v;
    for (const Diagnostic& d : sorted()) v.push_back(headline(sm_, d));
    return v;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), compared
// case-insensitively: `Conv2d` is one step from `Conv2D`, `Maxpooling2D` zero steps.
static int edit_distance(const std::string& a, const std::string& b) {
    auto lo = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
    size_t n = a.size(), m = b.size();
    std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
    for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
    for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
    for (size_t i = 1; i <= n; ++i)
        for (size_t j = 1; j <= m; ++j) {
            int cost = lo(a[i - 1]) == lo(b[j - 1]) ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && lo(a[i - 1]) == lo(b[j - 2]) && lo(a[i - 2]) == lo(b[j - 1]))
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[n][m];
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    int best_d = 1 << 30;
    for (const std::string& c : candidates) {
        if (c == word) continue;
        int d = edit_distance(word, c);
        if (d < best_d) best_d = d, best = c;
    }
    // Allow roughly one typo per three characters; short words need a near-exact match.
    int limit = std::max<int>(1, static_cast<int>(word.size()) / 3);
    if (best_d <= limit) return best;
    // Otherwise a shortened or extended spelling: val_acc for val_accuracy, idx_file for idx.
    auto lower = [](std::string s) {
        for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    std::string w = lower(word), prefix_best;
    for (const std::string& c : candidates) {
        std::string lc = lower(c);
        if (lc == w || std::min(lc.size(), w.size()) < 3) continue;
        if (lc.rfind(w, 0) == 0 || w.rfind(lc, 0) == 0)
            if (prefix_best.empty() || c.size() < prefix_best.size()) prefix_best = c;
    }
    return prefix_best;
}

std::string suggestion_suffix(const std::string& word, const std::vector<std::string>& candidates) {
    std::string s = did_you_mean(word, candidates);
    return s.empty() ? std::string() : fmt::format("; did you mean '{}'?", s);
}

}  // namespace cnnc
