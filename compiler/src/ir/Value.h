// Evaluated argument values. A layer argument such as `kernel_size = (3, 3)`, `activation = relu`
// or `optimizer = adam(learning_rate = 1e-4)` becomes a Value after block parameters are
// substituted and arithmetic (`1/255`) is folded.
#pragma once
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

#include "diag/Source.h"

namespace cnnc {

struct NamedValue;

struct Value {
    enum class Kind { None, Bool, Int, Float, String, Ident, Ref, Tuple, List, Call, Dict };
    Kind kind = Kind::None;
    SrcLoc loc;
    bool b = false;
    int64_t i = 0;
    double f = 0;
    std::string s;                // String text, Ident name, Ref "a.b", Call name
    std::vector<Value> items;     // Tuple, List
    std::vector<NamedValue> args; // Call; Dict: `{a = 1, b = 2}`, every entry named

    bool is_number() const { return kind == Kind::Int || kind == Kind::Float; }
    double as_double() const { return kind == Kind::Int ? static_cast<double>(i) : f; }
    // Idents and strings both name things: `padding = same` and `padding = "same"` are the same.
    bool is_name() const { return kind == Kind::Ident || kind == Kind::String; }

    static Value none(SrcLoc l = {}) { Value v; v.loc = l; return v; }
    static Value boolean(bool x, SrcLoc l = {}) { Value v; v.kind = Kind::Bool; v.b = x; v.loc = l; return v; }
    static Value integer(int64_t x, SrcLoc l = {}) { Value v; v.kind = Kind::Int; v.i = x; v.f = static_cast<double>(x); v.loc = l; return v; }
    static Value real(double x, SrcLoc l = {}) { Value v; v.kind = Kind::Float; v.f = x; v.loc = l; return v; }
    static Value string(std::string x, SrcLoc l = {}) { Value v; v.kind = Kind::String; v.s = std::move(x); v.loc = l; return v; }
    static Value ident(std::string x, SrcLoc l = {}) { Value v; v.kind = Kind::Ident; v.s = std::move(x); v.loc = l; return v; }
    static Value tuple(std::vector<Value> xs, SrcLoc l = {}) { Value v; v.kind = Kind::Tuple; v.items = std::move(xs); v.loc = l; return v; }
};

struct NamedValue {
    std::string name;  // empty: positional
    SrcLoc name_loc;
    Value value;
};

const char* kind_name(Value::Kind k);  // "an integer", "a string", ... for messages
std::string to_string(const Value& v);  // as it would be written in a .cnn file

}  // namespace cnnc

template <>
struct fmt::formatter<cnnc::Value> : fmt::formatter<std::string> {
    template <class Ctx>
    auto format(const cnnc::Value& v, Ctx& ctx) const {
        return fmt::formatter<std::string>::format(cnnc::to_string(v), ctx);
    }
};
