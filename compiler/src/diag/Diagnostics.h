// User-facing diagnostics. A user error is collected here with its location and rendered as
//   file:line:col: error: message
//       5 |     Conv2d(32, 3)
//         |     ^~~~~~
// Internal errors (bugs in cnnc) are not diagnostics: they are exceptions the driver reports as a
// crash, so the two are never confused.
#pragma once
#include <fmt/core.h>

#include <string>
#include <vector>

#include "diag/Source.h"

namespace cnnc {

enum class Severity { Error, Warning, Note };

struct Diagnostic {
    Severity severity;
    SrcLoc loc;
    std::string message;
    std::vector<Diagnostic> notes;  // attached notes ("first defined here")
};

class Diagnostics {
  public:
    explicit Diagnostics(const SourceManager& sm) : sm_(sm) {}

    Diagnostic& error(SrcLoc loc, std::string msg);
    Diagnostic& warning(SrcLoc loc, std::string msg);
    template <class... A>
    Diagnostic& error(SrcLoc loc, fmt::format_string<A...> f, A&&... a) {
        return error(loc, fmt::format(f, std::forward<A>(a)...));
    }
    // A diagnostic collected elsewhere (the parser holds its errors back), with its notes.
    void add(const Diagnostic& d);
    static void note(Diagnostic& d, SrcLoc loc, std::string msg) {
        d.notes.push_back({Severity::Note, loc, std::move(msg), {}});
    }

    int error_count() const { return errors_; }
    bool has_errors() const { return errors_ > 0; }
    const std::vector<Diagnostic>& all() const { return list_; }

    // Sorted by file and position so the output reads top to bottom, whatever pass found it.
    std::string render(bool color = false) const;
    // One diagnostic rendered as render() does (an error found after checking, while running).
    std::string render_one(const Diagnostic& d) const;
    // "path:line:col: error: message" — the first line of each diagnostic, in order (golden tests).
    std::vector<std::string> headlines() const;

    const SourceManager& sources() const { return sm_; }

  private:
    std::vector<Diagnostic> sorted() const;
    const SourceManager& sm_;
    std::vector<Diagnostic> list_;
    int errors_ = 0;
};

// The nearest candidate to `word`, or "" when nothing is close enough to be a likely typo.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);
// " did you mean 'X'?" or "" — ready to append to a message.
std::string suggestion_suffix(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace cnnc
