#include "syntax/Parse.h"

#include "antlr4-runtime.h"
#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "CnnLexer.h"
#include "CnnParser.h"
#include "syntax/Brackets.h"

namespace cnnc {

using P = cnnc_gen::CnnParser;

const char* ast::decl_kind_name(ast::Decl::Kind k) {
    switch (k) {
        case ast::Decl::Kind::Import: return "import";
        case ast::Decl::Kind::Dataset: return "dataset";
        case ast::Decl::Kind::Model: return "model";
        case ast::Decl::Kind::Block: return "block";
        case ast::Decl::Kind::Augmentation: return "augmentation";
        case ast::Decl::Kind::Callbacks: return "callbacks";
        case ast::Decl::Kind::Train: return "train";
        case ast::Decl::Kind::Evaluate: return "evaluate";
    }
    return "?";
}

namespace {

// ANTLR's own wording ("mismatched input 'x' expecting {...}") is kept but made shorter and
// friendlier: stray characters and the end of file are named as such, and huge expected-token
// sets are cut.
class ErrorListener : public antlr4::BaseErrorListener {
  public:
    ErrorListener(Diagnostics& d, int file) : diags_(d), file_(file) {}
    void syntaxError(antlr4::Recognizer*, antlr4::Token* tok, size_t line, size_t col, const std::string& msg,
                     std::exception_ptr) override {
        SrcLoc loc{file_, static_cast<int>(line), static_cast<int>(col) + 1, 1};
        std::string m = msg;
        if (tok && tok->getType() == cnnc_gen::CnnLexer::STRAY) {
            m = fmt::format("unexpected character '{}'", tok->getText());
        } else if (tok && tok->getType() == antlr4::Token::EOF && m.find("missing") == std::string::npos) {
            m = "unexpected end of file";
            auto brace = msg.find("expecting");
            if (msg.find("'}'") != std::string::npos && msg.find("'{'") == std::string::npos)
                m += "; a '{' is not closed with '}'";
            else if (brace != std::string::npos)
                m += "; " + shorten(msg.substr(brace));
        } else {
            if (tok && tok->getType() != antlr4::Token::EOF) loc.len = static_cast<int>(tok->getText().size());
            if (m.rfind("mismatched input ", 0) == 0) m = "unexpected " + m.substr(17);
            else if (m.rfind("extraneous input ", 0) == 0) m = "unexpected " + m.substr(17);
            else if (m.rfind("no viable alternative at input ", 0) == 0)
                m = fmt::format("unexpected '{}'", tok ? tok->getText() : std::string("?"));
            auto e = m.find(" expecting ");
            if (e != std::string::npos) m = m.substr(0, e) + "; " + shorten(m.substr(e + 1));
        }
        if (!reported_any_at(loc)) diags_.error(loc, "syntax error: " + m);
    }

  private:
    static std::string shorten(std::string s) {
        // "expecting {'a', 'b', ...}" with more than 6 choices says too much to help.
        int commas = 0;
        for (char c : s) commas += c == ',';
        if (commas >= 6) return "expecting a declaration, statement or expression";
        return s;
    }
    bool reported_any_at(const SrcLoc& l) {
        for (auto& d : diags_.all())
            if (d.loc.file == l.file && d.loc.line == l.line && d.loc.col == l.col) return true;
        return false;
    }
    Diagnostics& diags_;
    int file_;
};

class Builder {
  public:
    Builder(Diagnostics& d, int file) : diags_(d), file_(file) {}

    ast::File file(P::FileContext* ctx) {
        ast::File f;
        f.file_id = file_;
        for (auto* it : ctx->item())
            if (auto d = item(it)) f.decls.push_back(std::move(*d));
        return f;
    }

  private:
    SrcLoc loc(antlr4::Token* t) const {
        if (!t) return {file_, 1, 1, 1};
        return {file_, static_cast<int>(t->getLine()), static_cast<int>(t->getCharPositionInLine()) + 1,
                std::max<int>(1, static_cast<int>(t->getText().size()))};
    }
    SrcLoc loc(antlr4::ParserRuleContext* c) const {
        if (!c) return {file_, 1, 1, 1};
        SrcLoc l = loc(c->getStart());
        antlr4::Token* s = c->getStop();
        if (s && s->getLine() == c->getStart()->getLine() && s->getStopIndex() >= c->getStart()->getStartIndex())
            l.len = static_cast<int>(s->getStopIndex() - c->getStart()->getStartIndex() + 1);
        return l;
    }
    static std::string text(P::NameContext* n) { return n ? n->getText() : std::string(); }

    std::optional<ast::Decl> item(P::ItemContext* it) {
        ast::Decl d;
        d.loc = loc(it->getStart());
        auto named = [&](P::NameContext* n) {
            d.name = text(n);
            d.name_loc = n ? loc(n) : d.loc;
            return !d.name.empty();
        };
        if (auto* c = dynamic_cast<P::ImportItemContext*>(it)) {
            d.kind = ast::Decl::Kind::Import;
            if (!c->STRING()) return std::nullopt;
            d.import_path = unquote(c->STRING()->getText());
            d.name_loc = loc(c->STRING()->getSymbol());
        } else if (auto* c = dynamic_cast<P::DatasetItemContext*>(it)) {
            d.kind = ast::Decl::Kind::Dataset;
            if (!named(c->name())) return std::nullopt;
            for (auto* f : c->field()) d.fields.push_back(field(f));
        } else if (auto* c = dynamic_cast<P::ModelItemContext*>(it)) {
            d.kind = ast::Decl::Kind::Model;
            if (!named(c->name())) return std::nullopt;
            d.body = stmts(c->stmt());
        } else if (auto* c = dynamic_cast<P::BlockItemContext*>(it)) {
            d.kind = ast::Decl::Kind::Block;
            if (!named(c->name())) return std::nullopt;
            for (auto* p : c->param()) {
                ast::Param prm{text(p->name()), loc(p->name()), std::nullopt};
                if (p->expr()) prm.default_value = expr(p->expr());
                d.params.push_back(std::move(prm));
            }
            d.body = stmts(c->stmt());
        } else if (auto* c = dynamic_cast<P::AugmentationItemContext*>(it)) {
            d.kind = ast::Decl::Kind::Augmentation;
            if (!named(c->name())) return std::nullopt;
            d.body = stmts(c->stmt());
        } else if (auto* c = dynamic_cast<P::CallbacksItemContext*>(it)) {
            d.kind = ast::Decl::Kind::Callbacks;
            if (!named(c->name())) return std::nullopt;
            d.body = stmts(c->stmt());
        } else if (auto* c = dynamic_cast<P::TrainItemContext*>(it)) {
            d.kind = ast::Decl::Kind::Train;
            if (!named(c->name()) || !c->expr()) return std::nullopt;
            d.target = expr(c->expr());
            for (auto* f : c->field()) d.fields.push_back(field(f));
        } else if (auto* c = dynamic_cast<P::EvaluateItemContext*>(it)) {
            d.kind = ast::Decl::Kind::Evaluate;
            if (!named(c->name()) || !c->expr()) return std::nullopt;
            d.target = expr(c->expr());
            for (auto* f : c->field()) d.fields.push_back(field(f));
        } else {
            return std::nullopt;
        }
        return d;
    }

    ast::Field field(P::FieldContext* f) {
        ast::Field out{text(f->name()), loc(f->name()), {}};
        if (f->expr()) out.value = expr(f->expr());
        return out;
    }

    std::vector<ast::Stmt> stmts(const std::vector<P::StmtContext*>& v) {
        std::vector<ast::Stmt> out;
        for (auto* s : v)
            if (auto st = stmt(s)) out.push_back(std::move(*st));
        return out;
    }

    // nullopt for a statement the parser recovered from (its error is already reported).
    std::optional<ast::Stmt> stmt(P::StmtContext* s) {
        ast::Stmt st;
        if (auto* c = dynamic_cast<P::CallStmtContext*>(s)) {
            if (!c->name()) return std::nullopt;
            st.kind = ast::Stmt::Kind::Call;
            call(st, c->name(), c->argList(), c->children);
            st.as = as(c->as());
        } else if (auto* c = dynamic_cast<P::RepeatStmtContext*>(s)) {
            st.kind = ast::Stmt::Kind::Repeat;
            st.loc = loc(c->getStart());
            st.name = "repeat";
            if (c->expr()) st.count = expr(c->expr());
            if (c->name()) st.var = text(c->name()), st.var_loc = loc(c->name());
            st.body = stmts(c->stmt());
            st.as = as(c->as());
        } else if (auto* c = dynamic_cast<P::IfStmtContext*>(s)) {
            if (!c->ifChain()) return std::nullopt;
            st = if_chain(c->ifChain());
            st.as = as(c->as());
        } else if (auto* c = dynamic_cast<P::InputStmtContext*>(s)) {
            if (!c->name()) return std::nullopt;
            st.kind = ast::Stmt::Kind::Input;
            st.name = "input";
            st.loc = loc(c->getStart());
            st.has_parens = true;
            st.refs.push_back(ident(c->name()));
            if (c->argList()) st.args = args(c->argList());
        } else if (auto* c = dynamic_cast<P::FromStmtContext*>(s)) {
            if (!c->name()) return std::nullopt;
            st.kind = ast::Stmt::Kind::From;
            st.name = "from";
            st.loc = loc(c->getStart());
            st.refs.push_back(ident(c->name()));
        } else if (auto* c = dynamic_cast<P::OutputStmtContext*>(s)) {
            st.kind = ast::Stmt::Kind::Output;
            st.name = "output";
            st.loc = loc(c->getStart());
            for (auto* n : c->name()) st.refs.push_back(ident(n));
        } else if (auto* c = dynamic_cast<P::ResidualStmtContext*>(s)) {
            st.kind = ast::Stmt::Kind::Residual;
            st.name = "residual";
            st.loc = loc(c->getStart());
            st.branches = keyed_bodies(c);
            st.as = as(c->as());
        } else if (auto* c = dynamic_cast<P::BranchesStmtContext*>(s)) {
            if (!c->name()) return std::nullopt;
            st.kind = ast::Stmt::Kind::Branches;
            call(st, c->name(), c->argList(), c->children);
            for (auto* b : c->branch())
                if (b->body()) st.branches.push_back({loc(b->getStart()), stmts(b->body()->stmt())});
            st.as = as(c->as());
        } else {
            return std::nullopt;
        }
        return st;
    }

    // `if c { } else if d { } else { }`.
    ast::Stmt if_chain(P::IfChainContext* c) {
        ast::Stmt st;
        st.kind = ast::Stmt::Kind::If;
        st.name = "if";
        st.loc = loc(c->getStart());
        if (c->expr()) st.cond = expr(c->expr());
        st.branches = keyed_bodies(c);
        return st;
    }

    // The bodies of a residual or an if, each located at the keyword before it (`residual`, then
    // `shortcut`; `if`, then `else`). An `else if` chain is a body of one If statement.
    std::vector<ast::Branch> keyed_bodies(antlr4::ParserRuleContext* c) {
        std::vector<ast::Branch> out;
        antlr4::Token* keyword = c->getStart();
        for (auto* child : c->children) {
            if (auto* t = dynamic_cast<antlr4::tree::TerminalNode*>(child)) keyword = t->getSymbol();
            if (auto* b = dynamic_cast<P::BodyContext*>(child)) out.push_back({loc(keyword), stmts(b->stmt())});
            if (auto* chain = dynamic_cast<P::IfChainContext*>(child)) out.push_back({loc(keyword), {if_chain(chain)}});
        }
        return out;
    }

    void call(ast::Stmt& st, P::NameContext* n, P::ArgListContext* al, const std::vector<antlr4::tree::ParseTree*>& children) {
        st.name = text(n);
        st.loc = loc(n);
        st.has_parens = children.size() > 1 && children[1]->getText() == "(";
        if (al) st.args = args(al);
    }

    ast::Ident ident(P::NameContext* n) const { return {text(n), loc(n)}; }
    ast::Ident as(P::AsContext* a) const { return a && a->name() ? ident(a->name()) : ast::Ident{}; }

    std::vector<ast::Arg> args(P::ArgListContext* al) {
        std::vector<ast::Arg> out;
        for (auto* a : al->arg()) {
            ast::Arg arg;
            if (a->name()) arg.name = text(a->name()), arg.name_loc = loc(a->name());
            if (a->expr()) arg.value = expr(a->expr());
            else continue;
            if (arg.name.empty()) arg.name_loc = arg.value.loc;
            out.push_back(std::move(arg));
        }
        return out;
    }

    ast::Expr expr(P::ExprContext* e) {
        ast::Expr out;
        if (!e) return out;
        out.loc = loc(e);
        // A chain like 1+1+...+1 is a left-deep tree; bound its depth so that building, evaluating
        // and freeing it can never exhaust the stack.
        struct Depth {
            int& d;
            explicit Depth(int& x) : d(++x) {}
            ~Depth() { --d; }
        } guard(depth_);
        if (depth_ > kMaxExprDepth) {
            if (!too_deep_) diags_.error(out.loc, "expression too long or too deeply nested (over {} levels)", kMaxExprDepth);
            too_deep_ = true;
            out.kind = ast::Expr::Kind::Error;
            return out;
        }
        // Every two-operand alternative has the same shape: two exprs and an `op` token.
        auto two = [&](auto* c) {
            if (c) binary(out, c->expr(), c->op);
            return c != nullptr;
        };
        if (auto* c = dynamic_cast<P::NegExprContext*>(e)) {
            out.kind = ast::Expr::Kind::Neg;
            out.items.push_back(expr(c->expr()));
        } else if (auto* c = dynamic_cast<P::NotExprContext*>(e)) {
            out.kind = ast::Expr::Kind::Not;
            out.items.push_back(expr(c->expr()));
        } else if (auto* c = dynamic_cast<P::PrimaryExprContext*>(e)) {
            if (c->primary()) return primary(c->primary());
        } else {
            two(dynamic_cast<P::MulExprContext*>(e)) || two(dynamic_cast<P::AddExprContext*>(e)) ||
                two(dynamic_cast<P::CompareExprContext*>(e)) || two(dynamic_cast<P::AndExprContext*>(e)) ||
                two(dynamic_cast<P::OrExprContext*>(e));
        }
        return out;
    }

    void binary(ast::Expr& out, const std::vector<P::ExprContext*>& operands, antlr4::Token* op) {
        out.kind = ast::Expr::Kind::Binary;
        out.op = op ? op->getText() : "+";
        for (auto* o : operands) out.items.push_back(expr(o));
        if (out.items.size() != 2) out.kind = ast::Expr::Kind::Error;  // recovered from a syntax error
        if (op) out.loc = loc(op);  // point at the operator: "cannot divide by zero" is about it
    }

    ast::Expr primary(P::PrimaryContext* p) {
        ast::Expr out;
        out.loc = loc(p);
        if (auto* c = dynamic_cast<P::NumberLitContext*>(p)) {
            number(out, c->NUMBER()->getText());
        } else if (auto* c = dynamic_cast<P::StringLitContext*>(p)) {
            out.kind = ast::Expr::Kind::String;
            out.text = unquote(c->STRING()->getText());
        } else if (dynamic_cast<P::BoolLitContext*>(p)) {
            out.kind = ast::Expr::Kind::Bool;
            out.bool_value = p->getText() == "true";
        } else if (dynamic_cast<P::NoneLitContext*>(p)) {
            out.kind = ast::Expr::Kind::None;
        } else if (auto* c = dynamic_cast<P::CallExprContext*>(p)) {
            out.kind = ast::Expr::Kind::Call;
            out.text = text(c->name());
            if (c->argList()) out.args = args(c->argList());
        } else if (auto* c = dynamic_cast<P::RefExprContext*>(p)) {
            out.kind = ast::Expr::Kind::Ref;
            for (auto* n : c->name()) out.path.push_back(text(n));
            for (size_t i = 0; i < out.path.size(); ++i) out.text += (i ? "." : "") + out.path[i];
        } else if (auto* c = dynamic_cast<P::ParenExprContext*>(p)) {
            ast::Expr inner = expr(c->expr());
            return inner;
        } else if (auto* c = dynamic_cast<P::TupleExprContext*>(p)) {
            out.kind = ast::Expr::Kind::Tuple;
            for (auto* x : c->expr()) out.items.push_back(expr(x));
        } else if (auto* c = dynamic_cast<P::ListExprContext*>(p)) {
            out.kind = ast::Expr::Kind::List;
            for (auto* x : c->expr()) out.items.push_back(expr(x));
        } else if (auto* c = dynamic_cast<P::DictExprContext*>(p)) {
            out.kind = ast::Expr::Kind::Dict;
            if (c->argList()) out.args = args(c->argList());
            for (const auto& a : out.args)
                if (a.name.empty()) diags_.error(a.value.loc, "an entry of {{...}} is written name = value");
        }
        return out;
    }

    void number(ast::Expr& out, std::string t) {
        out.kind = ast::Expr::Kind::Number;
        std::string clean;
        for (char ch : t)
            if (ch != '_') clean += ch;
        out.is_int = clean.find_first_of(".eE") == std::string::npos;
        errno = 0;
        if (out.is_int) {
            out.int_value = std::strtoll(clean.c_str(), nullptr, 10);
            if (errno == ERANGE) diags_.error(out.loc, "integer literal '{}' is too large", t);
            out.number = static_cast<double>(out.int_value);
        } else {
            out.number = std::strtod(clean.c_str(), nullptr);
            if (errno == ERANGE && out.number != 0) diags_.error(out.loc, "number '{}' is out of range", t);
        }
    }

    static std::string unquote(const std::string& s) {
        std::string out;
        for (size_t i = 1; i + 1 < s.size(); ++i) {
            char c = s[i];
            if (c == '\\' && i + 2 < s.size()) {
                char n = s[++i];
                out += n == 'n' ? '\n' : n == 't' ? '\t' : n;
            } else {
                out += c;
            }
        }
        return out;
    }

    static constexpr int kMaxExprDepth = 256;
    Diagnostics& diags_;
    int file_;
    int depth_ = 0;
    bool too_deep_ = false;
};

}  // namespace

// ANTLR's parser recurses once per nesting level of brackets and prefix operator (`-`, `not`);
// refuse absurd nesting before it can exhaust the stack. Returns false after reporting.
static bool nesting_ok(const SourceFile& src, int file_id, Diagnostics& diags) {
    constexpr int kMax = 100;
    int depth = 0, prefix_run = 0, line = 1, col = 0;
    char quote = 0;
    bool comment = false;
    std::string word;  // the identifier or number being read
    for (char c : src.text) {
        ++col;
        if (c == '\n') line++, col = 0, comment = false, quote = 0;
        if (comment) continue;
        if (quote) {
            if (c == quote) quote = 0;
            continue;
        }
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
            word += c;
            continue;
        }
        if (!word.empty()) prefix_run = word == "not" ? prefix_run + 1 : 0;
        word.clear();
        if (c == '#') comment = true;
        else if (c == '"' || c == '\'') quote = c;
        else if (c == '(' || c == '[' || c == '{') depth++;
        else if (c == ')' || c == ']' || c == '}') depth = std::max(0, depth - 1);
        if (c == '-') prefix_run++;
        else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') prefix_run = 0;
        if (depth > kMax || prefix_run > kMax) {
            diags.error(SrcLoc{file_id, line, std::max(col, 1), 1}, "nesting deeper than {} levels", kMax);
            return false;
        }
    }
    return true;
}

ast::File parse_file(int file_id, Diagnostics& diags) {
    const SourceFile& src = diags.sources().file(file_id);
    if (!nesting_ok(src, file_id, diags)) return ast::File{file_id, {}};
    antlr4::ANTLRInputStream input;
    try {
        input.load(src.text);
    } catch (const std::exception&) {  // the loader's UTF-8 check should have caught it first
        diags.error(SrcLoc{file_id, 1, 1, 1}, "the file is not UTF-8 text");
        return ast::File{file_id, {}};
    }
    cnnc_gen::CnnLexer lexer(&input);
    // Syntax errors are held back until it is known whether a bracket left open caused them: then
    // they are a cascade, and only the open bracket is reported.
    Diagnostics syntax(diags.sources());
    ErrorListener listener(syntax, file_id);
    lexer.removeErrorListeners();
    lexer.addErrorListener(&listener);
    antlr4::CommonTokenStream tokens(&lexer);
    P parser(&tokens);
    parser.removeErrorListeners();
    parser.addErrorListener(&listener);
    P::FileContext* tree = parser.file();
    if (syntax.has_errors()) {
        tokens.fill();
        if (report_unbalanced_brackets(tokens.getTokens(), file_id, syntax.all().front(), diags))
            return ast::File{file_id, {}, true};
        for (const Diagnostic& d : syntax.all()) diags.add(d);
    }
    Builder b(diags, file_id);
    return b.file(tree);
}

}  // namespace cnnc
