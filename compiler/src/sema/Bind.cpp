#include "sema/Bind.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "builtins/Builtins.h"

namespace cnnc {

static std::string range_text(const ParamSpec& p) {
    auto num = [](double x) { return fmt::format("{:g}", x); };
    if (p.lo && p.hi) return fmt::format("in {}{}, {}{}", p.lo_open ? "(" : "[", num(*p.lo), num(*p.hi), p.hi_open ? ")" : "]");
    if (p.lo) return fmt::format("{} {}", p.lo_open ? ">" : ">=", num(*p.lo));
    return fmt::format("{} {}", p.hi_open ? "<" : "<=", num(*p.hi));
}

static bool in_range(const ParamSpec& p, double x) {
    if (p.lo && (p.lo_open ? !(x > *p.lo) : !(x >= *p.lo))) return false;
    if (p.hi && (p.hi_open ? !(x < *p.hi) : !(x <= *p.hi))) return false;
    return true;
}

static const char* type_text(const ParamSpec& p) {
    switch (p.type) {
        case ArgType::Int: return "an integer";
        case ArgType::Float: return "a number";
        case ArgType::Bool: return "true or false";
        case ArgType::String: return "a string";
        case ArgType::Name: return "a name";
        case ArgType::Size: return p.arity == 1 ? "an integer" : "an integer or a tuple of integers";
        case ArgType::Dims: return "a tuple of integers";
        case ArgType::Activation: return "an activation name";
        case ArgType::Initializer: return "an initializer name";
        case ArgType::Regularizer: return "a regularizer such as l2(1e-4)";
        case ArgType::Any: return "a value";
    }
    return "a value";
}

// A name-valued argument: accepts `same` or "same", reports near misses.
static bool check_name(const std::string& what, const std::string& pname, Value& v, const std::vector<std::string>& choices,
                       const char* noun, Diagnostics& diags) {
    if (!v.is_name()) {
        diags.error(v.loc, "argument '{}' of {} must be {}, got {} {}", pname, what, noun, kind_name(v.kind), v);
        return false;
    }
    if (choices.empty()) {  // any name: a metric to monitor, checked later against the run's metrics
        v.kind = Value::Kind::Ident;
        return true;
    }
    for (const auto& c : choices)
        if (c == v.s) {
            v.kind = Value::Kind::Ident;
            return true;
        }
    std::string list = choices.size() <= 8 ? fmt::format(" (one of {})", fmt::join(choices, ", ")) : "";
    diags.error(v.loc, "unknown {} '{}' for argument '{}' of {}{}{}", noun, v.s, pname, what, list,
                suggestion_suffix(v.s, choices));
    return false;
}

static bool check_ints(const ParamSpec& p, Value& v, const std::string& what, Diagnostics& diags, int want) {
    // Normalise to a tuple of ints: `3` → (3, 3) for a 2-D size.
    if (v.kind == Value::Kind::Int) {
        if (v.i > INT32_MAX || v.i < INT32_MIN) {
            diags.error(v.loc, "argument '{}' of {} is too large: {}", p.name, what, v.i);
            return false;
        }
        if (!in_range(p, static_cast<double>(v.i))) {
            diags.error(v.loc, "argument '{}' of {} must be {}, got {}", p.name, what, range_text(p), v.i);
            return false;
        }
        int n = want > 0 ? want : 1;
        std::vector<Value> items(static_cast<size_t>(n), Value::integer(v.i, v.loc));
        v = Value::tuple(std::move(items), v.loc);
        return true;
    }
    if (v.kind != Value::Kind::Tuple && v.kind != Value::Kind::List) {
        diags.error(v.loc, "argument '{}' of {} must be {}, got {} {}", p.name, what, type_text(p), kind_name(v.kind), v);
        return false;
    }
    if (want > 0 && static_cast<int>(v.items.size()) != want) {
        diags.error(v.loc, "argument '{}' of {} must have {} value{}, got {} {}", p.name, what, want, want == 1 ? "" : "s",
                    v.items.size(), v);
        return false;
    }
    if (v.items.empty()) {
        diags.error(v.loc, "argument '{}' of {} must not be empty", p.name, what);
        return false;
    }
    for (const Value& x : v.items) {
        if (x.kind == Value::Kind::Int && (x.i > INT32_MAX || x.i < INT32_MIN)) {
            diags.error(x.loc, "argument '{}' of {} is too large: {}", p.name, what, x.i);
            return false;
        }
        if (x.kind != Value::Kind::Int) {
            diags.error(x.loc, "argument '{}' of {} must hold integers, got {} {}", p.name, what, kind_name(x.kind), x);
            return false;
        }
        if (!in_range(p, static_cast<double>(x.i))) {
            diags.error(x.loc, "argument '{}' of {} must be {}, got {}", p.name, what, range_text(p), x.i);
            return false;
        }
    }
    v.kind = Value::Kind::Tuple;
    return true;
}

static bool check_regularizer(const ParamSpec& p, Value& v, const std::string& what, Diagnostics& diags) {
    std::vector<std::string> names = builtin_names(regularizers());
    if (v.is_name()) {  // kernel_regularizer = l2  → l2() with Keras' defaults
        Value call;
        call.kind = Value::Kind::Call;
        call.s = v.s;
        call.loc = v.loc;
        v = call;
    }
    if (v.kind != Value::Kind::Call) {
        diags.error(v.loc, "argument '{}' of {} must be {}, got {} {}", p.name, what, type_text(p), kind_name(v.kind), v);
        return false;
    }
    const Builtin* r = find_builtin(regularizers(), v.s);
    if (!r) {
        diags.error(v.loc, "unknown regularizer '{}'{}", v.s, suggestion_suffix(v.s, names));
        return false;
    }
    auto bound = bind_args(r->params, v.args, "regularizer " + r->name, v.loc, diags);
    if (!bound) return false;
    v.args.clear();
    for (const auto& [k, x] : bound->all()) v.args.push_back({k, x.loc, x});
    return true;
}

bool check_value(const ParamSpec& p, Value& v, const std::string& what, Diagnostics& diags) {
    if (v.kind == Value::Kind::None) {
        if (p.nullable || p.type == ArgType::Activation || p.type == ArgType::Regularizer) return true;
        diags.error(v.loc, "argument '{}' of {} cannot be None", p.name, what);
        return false;
    }
    auto wrong = [&]() {
        diags.error(v.loc, "argument '{}' of {} must be {}, got {} {}", p.name, what, type_text(p), kind_name(v.kind), v);
        return false;
    };
    auto range = [&](double x) {
        if (in_range(p, x)) return true;
        diags.error(v.loc, "argument '{}' of {} must be {}, got {}", p.name, what, range_text(p), v);
        return false;
    };
    switch (p.type) {
        case ArgType::Int:
            if (v.kind != Value::Kind::Int) return wrong();
            if (v.i > INT32_MAX || v.i < INT32_MIN) {
                diags.error(v.loc, "argument '{}' of {} is too large: {}", p.name, what, v.i);
                return false;
            }
            return range(static_cast<double>(v.i));
        case ArgType::Float:
            if (!v.is_number()) return wrong();
            if (!std::isfinite(v.as_double())) return wrong();
            if (!range(v.as_double())) return false;
            v = Value::real(v.as_double(), v.loc);
            return true;
        case ArgType::Bool:
            if (v.kind != Value::Kind::Bool) return wrong();
            return true;
        case ArgType::String:
            if (v.kind != Value::Kind::String) return wrong();
            return true;
        case ArgType::Name:
            return check_name(what, p.name, v, p.choices, "value", diags);
        case ArgType::Size:
            return check_ints(p, v, what, diags, p.arity);
        case ArgType::Dims:
            return check_ints(p, v, what, diags, 0);
        case ArgType::Activation: {
            return check_name(what, p.name, v, builtin_names(activations()), "activation", diags);
        }
        case ArgType::Initializer: {
            return check_name(what, p.name, v, builtin_names(initializers()), "initializer", diags);
        }
        case ArgType::Regularizer:
            return check_regularizer(p, v, what, diags);
        case ArgType::Any:
            return true;
    }
    return true;
}

std::optional<BoundArgs> bind_args(const std::vector<ParamSpec>& params, const std::vector<NamedValue>& args,
                                   const std::string& what, SrcLoc call_loc, Diagnostics& diags) {
    BoundArgs out;
    out.call_loc = call_loc;
    bool ok = true;
    std::map<std::string, SrcLoc> seen;
    bool keyword_seen = false;
    size_t positional = 0;
    std::vector<std::string> names;
    for (const auto& p : params) names.push_back(p.name);

    for (const NamedValue& a : args) {
        const ParamSpec* p = nullptr;
        if (a.name.empty()) {
            if (keyword_seen) {
                diags.error(a.value.loc, "positional argument to {} follows a keyword argument", what);
                ok = false;
                continue;
            }
            if (positional >= params.size()) {
                diags.error(a.value.loc, "{} takes at most {} argument{}, got more", what, params.size(),
                            params.size() == 1 ? "" : "s");
                ok = false;
                continue;
            }
            p = &params[positional++];
        } else {
            keyword_seen = true;
            for (const auto& q : params)
                if (q.name == a.name) p = &q;
            if (!p) {
                diags.error(a.name_loc, "{} has no argument '{}'{}", what, a.name, suggestion_suffix(a.name, names));
                ok = false;
                continue;
            }
        }
        if (seen.count(p->name)) {
            auto& d = diags.error(a.name.empty() ? a.value.loc : a.name_loc, "argument '{}' of {} is given twice", p->name, what);
            Diagnostics::note(d, seen[p->name], "first given here");
            ok = false;
            continue;
        }
        seen[p->name] = a.name.empty() ? a.value.loc : a.name_loc;
        Value v = a.value;
        if (!check_value(*p, v, what, diags)) {
            ok = false;
            continue;
        }
        out.set(p->name, std::move(v), true);
    }
    for (const auto& p : params) {
        if (seen.count(p.name)) continue;
        if (p.required) {
            // After a misspelt or misplaced argument the "missing" one is usually that same
            // argument: report only the first cause.
            if (ok) diags.error(call_loc, "{} is missing required argument '{}'", what, p.name);
            ok = false;
            continue;
        }
        Value v = p.default_value;
        v.loc = call_loc;
        // Defaults are written in their short form (kernel size 3); normalise them the same way.
        if (v.kind != Value::Kind::None && (p.type == ArgType::Size || p.type == ArgType::Dims || p.type == ArgType::Name ||
                                            p.type == ArgType::Float || p.type == ArgType::Activation || p.type == ArgType::Regularizer))
            check_value(p, v, what, diags);
        out.set(p.name, std::move(v), false);
    }
    if (!ok) return std::nullopt;
    return out;
}

}  // namespace cnnc
