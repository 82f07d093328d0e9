#include "sema/Eval.h"

#include <cmath>

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
            Value v;
            v.kind = Value::Kind::Call;
            v.s = e.text;
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
        case K::Binary: {
            auto a = eval(e.items[0], env, diags), b = eval(e.items[1], env, diags);
            if (!a || !b) return std::nullopt;
            SrcLoc loc = e.items[0].loc;
            if (!a->is_number() || !b->is_number()) {
                diags.error(e.loc, "cannot apply '{}' to {} {} and {} {}", e.op, kind_name(a->kind), *a, kind_name(b->kind), *b);
                return std::nullopt;
            }
            if (e.op == '/' && b->as_double() == 0) {
                diags.error(e.loc, "division by zero");
                return std::nullopt;
            }
            // Integers stay integers under + - * (filters * 2); `/` is true division as in Python,
            // so 1/255 is 0.00392..., never 0.
            if (a->kind == Value::Kind::Int && b->kind == Value::Kind::Int && e.op != '/') {
                int64_t r = 0;
                bool overflow = e.op == '+'   ? __builtin_add_overflow(a->i, b->i, &r)
                                : e.op == '-' ? __builtin_sub_overflow(a->i, b->i, &r)
                                              : __builtin_mul_overflow(a->i, b->i, &r);
                if (overflow) {
                    diags.error(e.loc, "integer overflow in '{}'", e.op);
                    return std::nullopt;
                }
                return Value::integer(r, loc);
            }
            double x = a->as_double(), y = b->as_double();
            double r = e.op == '+' ? x + y : e.op == '-' ? x - y : e.op == '*' ? x * y : x / y;
            if (!std::isfinite(r)) {
                diags.error(e.loc, "the result of '{}' is not a finite number", e.op);
                return std::nullopt;
            }
            return Value::real(r, loc);
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

}  // namespace cnnc
