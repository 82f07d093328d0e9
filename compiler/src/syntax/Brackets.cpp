#include "syntax/Brackets.h"

#include "antlr4-runtime.h"
#include <fmt/format.h>

namespace cnnc {

namespace {

char closer_of(char open) { return open == '{' ? '}' : open == '(' ? ')' : ']'; }

bool starts_declaration(const std::vector<antlr4::Token*>& tokens, size_t i) {
    static const char* const kKeywords[] = {"import", "dataset", "model", "block", "augmentation", "callbacks", "train", "evaluate"};
    const antlr4::Token* t = tokens[i];
    if (t->getCharPositionInLine() != 0) return false;
    bool keyword = false;
    for (const char* k : kKeywords) keyword |= t->getText() == k;
    // `train = idx(...)` at the start of a line is a dataset member, not a declaration.
    return keyword && i + 1 < tokens.size() && tokens[i + 1]->getText() != "=";
}

}  // namespace

bool report_unbalanced_brackets(const std::vector<antlr4::Token*>& tokens, int file_id, const Diagnostic& gave_up,
                                Diagnostics& diags) {
    auto loc = [&](const antlr4::Token* t) {
        return SrcLoc{file_id, static_cast<int>(t->getLine()), static_cast<int>(t->getCharPositionInLine()) + 1, 1};
    };
    std::string note = "the parser gave up here: " + gave_up.message;
    bool reported = false;
    std::vector<const antlr4::Token*> open;
    // `next`: the declaration that starts while brackets are open, where the note points instead.
    auto unclosed = [&](size_t keep, const antlr4::Token* next) {
        for (size_t k = keep; k < open.size(); ++k) {
            auto& e = diags.error(loc(open[k]), "this '{}' is never closed", open[k]->getText());
            if (next)
                Diagnostics::note(e, loc(next), fmt::format("the next declaration starts here, so '{}' was expected before it",
                                                            closer_of(open[k]->getText()[0])));
            else
                Diagnostics::note(e, gave_up.loc, note);
            reported = true;
        }
        open.resize(keep);
    };
    for (size_t i = 0; i < tokens.size(); ++i) {
        const antlr4::Token* t = tokens[i];
        if (t->getType() == antlr4::Token::EOF) break;
        const std::string& s = t->getText();
        if (s == "{" || s == "(" || s == "[") {
            open.push_back(t);
            continue;
        }
        if (starts_declaration(tokens, i)) {
            unclosed(0, t);
            continue;
        }
        if (s != "}" && s != ")" && s != "]") continue;
        size_t k = open.size();
        while (k > 0 && closer_of(open[k - 1]->getText()[0]) != s[0]) --k;
        if (k == 0) {
            char opener = s == "}" ? '{' : s == ")" ? '(' : '[';
            auto& e = diags.error(loc(t), "this '{}' has no matching '{}' before it", s, opener);
            SrcLoc at = loc(t);
            if (gave_up.loc.line != at.line || gave_up.loc.col != at.col) Diagnostics::note(e, gave_up.loc, note);
            reported = true;
            continue;
        }
        unclosed(k, nullptr);  // whatever was opened inside the matching bracket is never closed
        open.pop_back();
    }
    unclosed(0, nullptr);
    return reported;
}

}  // namespace cnnc
