#include "sema/Eval.h"

#include <algorithm>
#include <cmath>

#include "sema/Bind.h"
#include "sema/Functions.h"

namespace cnnc {

static std::string interpolate(const std::string& s, const Env& env) {
    if (env.empty() || s.find('{') == std::string::npos) return s;
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '{') {
            size_t close = s.find('}', i);
            if (close != std::string::npos) {
                auto it = env.find(s.substr(i + 1, close - i - 1));
                // Only names bound here are replaced: `{epoch:02d}` in a checkpoint path is left for
                // the runtime.
                if (it != env.end()) {
                    const Value& v = it->second;
                    out += v.kind == Value::Kind::String || v.kind == Value::Kind::Ident ? v.s : to_string(v);
                    i = close;
                    continue;
                }
            }
        }
        out += s[i];
    }
    return out;
}

static bool is_bool(const Value& v, const char* what, Diagnostics& diags) {
    if (v.kind == Value::Kind::Bool) return true;
    diags.error(v.loc, "{} needs true or false, got {} {}", what, kind_name(v.kind), v);
    return false;
}

static bool is_comparison(const std::string& op) {
    return op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=";
}

// Python's ==, except that a name and a string with the same text are equal (`pooling == avg` and
// `pooling == "avg"` are the same test, as `padding = same` and `padding = "same"` are).
static bool equal(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number())
        return a.kind == Value::Kind::Int && b.kind == Value::Kind::Int ? a.i == b.i : a.as_double() == b.as_double();
    if (a.is_name() && b.is_name()) return a.s == b.s;
    if (a.kind != b.kind) return false;
    switch (a.kind) {
        case Value::Kind::None: return true;
        case Value::Kind::Bool: return a.b == b.b;
        case Value::Kind::Tuple:
        case Value::Kind::List:
            return a.items.size() == b.items.size() && std::equal(a.items.begin(), a.items.end(), b.items.begin(), equal);
        default: return to_string(a) == to_string(b);  // a dataset member, a call
    }
}

static std::optional<Value> compare(const std::string& op, const Value& a, const Value& b, SrcLoc at, Diagnostics& diags) {
    if (op == "==" || op == "!=") return Value::boolean(equal(a, b) == (op == "=="), at);
    if (!a.is_number() || !b.is_number()) {
        diags.error(at, "cannot compare {} {} and {} {} with '{}': only numbers are ordered", kind_name(a.kind), a,
                    kind_name(b.kind), b, op);
        return std::nullopt;
    }
    double x = a.as_double(), y = b.as_double();
    bool r = op == "<" ? x < y : op == "<=" ? x <= y : op == ">" ? x > y : x >= y;
    return Value::boolean(r, at);
}

// `and` and `or` take booleans and, as in Python, read their right side only when the left one
// does not decide: `stride == 1 and in_channels == filters`.
static std::optional<Value> logic(const ast::Expr& e, const Env& env, Diagnostics& diags) {
    std::string what = "'" + e.op + "'";
    auto a = eval(e.items[0], env, diags);
    if (!a || !is_bool(*a, what.c_str(), diags)) return std::nullopt;
    if (a->b == (e.op == "or")) return Value::boolean(a->b, e.loc);
    auto b = eval(e.items[1], env, diags);
    if (!b || !is_bool(*b, what.c_str(), diags)) return std::nullopt;
    return Value::boolean(b->b, e.loc);
}

// + - * / // % on numbers, as in Python: integers stay integers (filters * 2) except under `/`,
// true division (1/255 is 0.00392..., never 0); `//` floors and `%` takes the divisor's sign, so
// `size % 2` is 0 or 1 and `(size + 1) // 2` is half the size rounded up.
static std::optional<Value> arithmetic(const ast::Expr& e, const Value& a, const Value& b, Diagnostics& diags) {
    const std::string& op = e.op;
    SrcLoc loc = e.items[0].loc;
    if (!a.is_number() || !b.is_number()) {
        diags.error(e.loc, "cannot apply '{}' to {} {} and {} {}", op, kind_name(a.kind), a, kind_name(b.kind), b);
        return std::nullopt;
    }
    if ((op == "/" || op == "//" || op == "%") && b.as_double() == 0) {
        diags.error(e.loc, "division by zero");
        return std::nullopt;
    }
    if (a.kind == Value::Kind::Int && b.kind == Value::Kind::Int && op != "/") {
        int64_t r = 0;
        bool overflow = false;
        if (op == "+") overflow = __builtin_add_overflow(a.i, b.i, &r);
        else if (op == "-") overflow = __builtin_sub_overflow(a.i, b.i, &r);
        else if (op == "*") overflow = __builtin_mul_overflow(a.i, b.i, &r);
        else if (a.i == INT64_MIN && b.i == -1) overflow = true;
        else {
            int64_t q = a.i / b.i;  // C++ truncates; Python floors
            if (a.i % b.i != 0 && (a.i < 0) != (b.i < 0)) --q;
            r = op == "//" ? q : a.i - q * b.i;
        }
        if (overflow) {
            diags.error(e.loc, "integer overflow in '{}'", op);
            return std::nullopt;
        }
        return Value::integer(r, loc);
    }
    double x = a.as_double(), y = b.as_double();
    double r = op == "+"   ? x + y
               : op == "-" ? x - y
               : op == "*" ? x * y
               : op == "/" ? x / y
               : op == "//" ? std::floor(x / y)
                            : x - std::floor(x / y) * y;
    if (!std::isfinite(r)) {
        diags.error(e.loc, "the result of '{}' is not a finite number", op);
        return std::nullopt;
    }
    return Value::real(r, loc);
}

std::optional<Value> eval(const ast::Expr& e, const Env& env, Diagnostics& diags) {
    using K = ast::Expr::Kind;
    switch (e.kind) {
        case K::Error:
            return std::nullopt;
        case K::Number:
            return e.is_int ? Value::integer(e.int_value, e.loc) : Value::real(e.number, e.loc);
        case K::String:
            return Value::string(interpolate(e.text, env), e.loc);
        case K::Bool:
            return Value::boolean(e.bool_value, e.loc);
        case K::None:
            return Value::none(e.loc);
        case K::Ref: {
            if (e.path.size() == 1) {
                auto it = env.find(e.path[0]);
                if (it != env.end()) {
                    Value v = it->second;
                    v.loc = e.loc;  // errors about a substituted value point at its use
                    return v;
                }
                return Value::ident(e.path[0], e.loc);
            }
            Value v;
            v.kind = Value::Kind::Ref;
            v.s = e.text;
            v.loc = e.loc;
            return v;
        }
        case K::Call: {
            auto args = eval_args(e.args, env, diags);
            if (!args) return std::nullopt;
            if (const Function* f = find_function(e.text)) {
                auto bound = bind_args(f->params, *args, f->name + "()", e.loc, diags);
                if (!bound) return std::nullopt;
                return f->apply(*bound, e.loc);
            }
            Value v;
            v.kind = Value::Kind::Call;
            v.s = e.text;
            v.loc = e.loc;
            v.args = std::move(*args);
            return v;
        }
        case K::Dict: {
            auto args = eval_args(e.args, env, diags);
            if (!args) return std::nullopt;
            Value v;
            v.kind = Value::Kind::Dict;
            v.loc = e.loc;
            v.args = std::move(*args);
            return v;
        }
        case K::Tuple:
        case K::List: {
            Value v;
            v.kind = e.kind == K::Tuple ? Value::Kind::Tuple : Value::Kind::List;
            v.loc = e.loc;
            for (const auto& x : e.items) {
                auto item = eval(x, env, diags);
                if (!item) return std::nullopt;
                v.items.push_back(std::move(*item));
            }
            return v;
        }
        case K::Neg: {
            auto x = eval(e.items[0], env, diags);
            if (!x) return std::nullopt;
            if (x->kind == Value::Kind::Int) return Value::integer(-x->i, e.loc);
            if (x->kind == Value::Kind::Float) return Value::real(-x->f, e.loc);
            diags.error(e.loc, "cannot negate {} {}", kind_name(x->kind), *x);
            return std::nullopt;
        }
        case K::Not: {
            auto x = eval(e.items[0], env, diags);
            if (!x || !is_bool(*x, "'not'", diags)) return std::nullopt;
            return Value::boolean(!x->b, e.loc);
        }
        case K::Binary: {
            if (e.op == "and" || e.op == "or") return logic(e, env, diags);
            auto a = eval(e.items[0], env, diags), b = eval(e.items[1], env, diags);
            if (a && b && is_comparison(e.op)) return compare(e.op, *a, *b, e.loc, diags);
            if (!a || !b) return std::nullopt;
            return arithmetic(e, *a, *b, diags);
        }
    }
    return std::nullopt;
}

std::optional<std::vector<NamedValue>> eval_args(const std::vector<ast::Arg>& args, const Env& env, Diagnostics& diags) {
    std::vector<NamedValue> out;
    bool ok = true;
    for (const auto& a : args) {
        auto v = eval(a.value, env, diags);
        if (!v) {
            ok = false;
            continue;
        }
        out.push_back({a.name, a.name_loc, std::move(*v)});
    }
    if (!ok) return std::nullopt;
    return out;
}

// A bare name that no parameter or repeat index binds evaluates to itself (`avg`, `relu`), which is
// what a comparison's other side wants, but where a condition tests it on its own, or compares it
// with another such name, it is a misspelt parameter: `if include_tpo`, `if poolng == avg`.
static bool names_known(const ast::Expr& e, const Env& env, Diagnostics& diags) {
    auto unbound = [&](const ast::Expr& x) { return x.kind == ast::Expr::Kind::Ref && x.path.size() == 1 && !env.count(x.text); };
    std::vector<std::string> known = {"true", "false"};
    for (const auto& [name, value] : env) known.push_back(name);
    auto report = [&](const ast::Expr& x, const std::string& why) {
        diags.error(x.loc, "unknown name '{}' in a condition{}: {}", x.text, suggestion_suffix(x.text, known), why);
        return false;
    };
    if (unbound(e)) return report(e, "a condition tests the block's parameters and repeat indices");
    if (e.kind == ast::Expr::Kind::Binary && is_comparison(e.op) && unbound(e.items[0]) && unbound(e.items[1])) {
        // The misspelt side is the one close to a parameter's name (`avg == poolng`), else the left.
        bool right = did_you_mean(e.items[0].text, known).empty() && !did_you_mean(e.items[1].text, known).empty();
        return report(e.items[right ? 1 : 0], fmt::format("neither '{}' nor '{}' is a parameter or repeat index, so the "
                                                          "comparison never changes", e.items[0].text, e.items[1].text));
    }
    bool logic = e.kind == ast::Expr::Kind::Not || (e.kind == ast::Expr::Kind::Binary && (e.op == "and" || e.op == "or"));
    if (!logic) return true;
    for (const ast::Expr& x : e.items)
        if (!names_known(x, env, diags)) return false;
    return true;
}

std::optional<bool> eval_condition(const ast::Expr& e, const Env& env, Diagnostics& diags) {
    if (!names_known(e, env, diags)) return std::nullopt;
    auto v = eval(e, env, diags);
    if (!v) return std::nullopt;
    if (v->kind != Value::Kind::Bool) {
        diags.error(e.loc, "the condition of 'if' must be true or false, got {} {}; compare it, e.g. 'pooling == avg'",
                    kind_name(v->kind), *v);
        return std::nullopt;
    }
    return v->b;
}

}  // namespace cnnc
