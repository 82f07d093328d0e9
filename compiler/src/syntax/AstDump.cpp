#include "syntax/AstDump.h"

#include <fmt/format.h>

namespace cnnc {

namespace {

class AstPrinter {
  public:
    std::string out;

    void decl(const ast::Decl& d) {
        using K = ast::Decl::Kind;
        if (d.kind == K::Import) {
            line(1, fmt::format("import \"{}\"", d.import_path), d.loc);
            return;
        }
        line(1, fmt::format("{} {}", ast::decl_kind_name(d.kind), d.name), d.loc);
        for (const auto& p : d.params) {
            line(2, "param " + p.name, p.loc);
            if (p.default_value) expr(3, *p.default_value, "default = ");
        }
        if (d.kind == K::Train || d.kind == K::Evaluate) expr(2, d.target, "on = ");
        for (const auto& f : d.fields) {
            line(2, "field " + f.name, f.loc);
            expr(3, f.value);
        }
        for (const auto& s : d.body) stmt(2, s);
    }

  private:
    void line(int depth, const std::string& text, const SrcLoc& loc) {
        out += fmt::format("{:{}}{} @{}:{}\n", "", 2 * depth, text, loc.line, loc.col);
    }

    void stmt(int depth, const ast::Stmt& s) {
        using K = ast::Stmt::Kind;
        switch (s.kind) {
            case K::Repeat:
                line(depth, "repeat", s.loc);
                expr(depth + 1, s.count, "count = ");
                if (!s.var.empty()) line(depth + 1, "as " + s.var, s.var_loc);
                for (const auto& b : s.body) stmt(depth + 1, b);
                break;
            case K::Call:
                line(depth, "call " + s.name + (s.has_parens ? "()" : ""), s.loc);
                args(depth + 1, s.args);
                break;
            case K::Input:
                line(depth, "input " + s.refs.at(0).name, s.loc);
                args(depth + 1, s.args);
                break;
            case K::From:
            case K::Output: {
                std::string names;
                for (const auto& r : s.refs) names += (names.empty() ? "" : ", ") + r.name;
                line(depth, s.name + " " + names, s.loc);
                break;
            }
            case K::If:
                line(depth, "if", s.loc);
                expr(depth + 1, s.cond, "cond = ");
                for (size_t i = 0; i < s.branches.size(); ++i) {
                    line(depth + 1, i == 0 ? "then" : "else", s.branches[i].loc);
                    for (const auto& b : s.branches[i].body) stmt(depth + 2, b);
                }
                break;
            case K::Branches:
            case K::Residual:
                line(depth, s.kind == K::Residual ? "residual" : "merge " + s.name + (s.has_parens ? "()" : ""), s.loc);
                args(depth + 1, s.args);
                for (size_t i = 0; i < s.branches.size(); ++i) {
                    const char* what = s.kind == K::Branches ? "branch" : i == 0 ? "body" : "shortcut";
                    line(depth + 1, what, s.branches[i].loc);
                    for (const auto& b : s.branches[i].body) stmt(depth + 2, b);
                }
                break;
        }
        if (!s.as.empty()) line(depth + 1, "named " + s.as.name, s.as.loc);
    }

    void args(int depth, const std::vector<ast::Arg>& as) {
        for (const auto& a : as) {
            if (a.name.empty()) {
                expr(depth, a.value, "arg ");
            } else {
                line(depth, "arg " + a.name, a.name_loc);
                expr(depth + 1, a.value, "= ");
            }
        }
    }

    // An expression node; `lead` prefixes its line ("arg ", "default = ").
    void expr(int depth, const ast::Expr& e, const std::string& lead = "") {
        using K = ast::Expr::Kind;
        switch (e.kind) {
            case K::Number:
                line(depth, lead + (e.is_int ? fmt::format("int {}", e.int_value) : fmt::format("float {}", e.number)), e.loc);
                return;
            case K::String: line(depth, lead + fmt::format("string \"{}\"", e.text), e.loc); return;
            case K::Bool: line(depth, lead + (e.bool_value ? "bool true" : "bool false"), e.loc); return;
            case K::None: line(depth, lead + "none", e.loc); return;
            case K::Ref: line(depth, lead + "ref " + e.text, e.loc); return;
            case K::Error: line(depth, lead + "error", e.loc); return;
            case K::Call:
                line(depth, lead + "call " + e.text, e.loc);
                args(depth + 1, e.args);
                return;
            case K::Dict:
                line(depth, lead + "dict", e.loc);
                args(depth + 1, e.args);
                return;
            case K::Tuple:
            case K::List:
            case K::Neg:
            case K::Not:
            case K::Binary: {
                const char* what = e.kind == K::Tuple  ? "tuple"
                                   : e.kind == K::List ? "list"
                                   : e.kind == K::Neg  ? "neg"
                                   : e.kind == K::Not  ? "not"
                                                       : "binary ";
                line(depth, lead + what + (e.kind == K::Binary ? e.op : ""), e.loc);
                for (const auto& x : e.items) expr(depth + 1, x);
                return;
            }
        }
    }
};

}  // namespace

std::string dump_ast(const ast::File& f, const std::string& name) {
    AstPrinter p;
    p.out = "file " + name + "\n";
    for (const auto& d : f.decls) p.decl(d);
    return p.out;
}

}  // namespace cnnc
