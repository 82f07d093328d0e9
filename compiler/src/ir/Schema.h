// Argument schemas: what a layer, loss, optimizer, callback or data source accepts. One schema
// serves the checker (sema/Bind.h binds arguments to it, with a located message for each unknown,
// duplicate, missing, mistyped or out-of-range one) and gives the later stages typed, defaulted
// values (BoundArgs).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "diag/Source.h"
#include "ir/Value.h"

namespace cnnc {

enum class ArgType {
    Int,
    Float,        // any number
    Bool,
    String,
    Name,         // one of `choices`, written as a name or a string: padding = same | "same"
    Size,         // an int or a tuple of `arity` ints: kernel_size = 3 | (3, 3)
    Dims,         // a tuple of ints of any length (or one int): input_shape = (28, 28, 1)
    Activation,   // a name from the activation list, or None
    Initializer,  // a name from the initializer list
    Regularizer,  // l1(..), l2(..), l1_l2(..) or their names
    Any,          // checked by the caller
};

struct ParamSpec {
    std::string name;
    ArgType type = ArgType::Any;
    bool required = false;
    Value default_value;
    std::optional<double> lo, hi;
    bool lo_open = false, hi_open = false;
    std::vector<std::string> choices;
    int arity = 1;
    bool nullable = false;  // None is accepted
    std::string doc;

    ParamSpec&& min(double v) && { lo = v; return std::move(*this); }
    ParamSpec&& above(double v) && { lo = v; lo_open = true; return std::move(*this); }
    ParamSpec&& max(double v) && { hi = v; return std::move(*this); }
    ParamSpec&& below(double v) && { hi = v; hi_open = true; return std::move(*this); }
    ParamSpec&& one_of(std::vector<std::string> c) && { choices = std::move(c); return std::move(*this); }
    ParamSpec&& dims(int n) && { arity = n; return std::move(*this); }
    ParamSpec&& about(std::string d) && { doc = std::move(d); return std::move(*this); }
};

ParamSpec required(std::string name, ArgType t);
ParamSpec optional(std::string name, ArgType t, Value def);
// Shorthands for defaults.
inline Value none() { return Value::none(); }
inline Value I(int64_t v) { return Value::integer(v); }
inline Value F(double v) { return Value::real(v); }
inline Value B(bool v) { return Value::boolean(v); }
inline Value N(std::string v) { return Value::ident(std::move(v)); }
inline Value S(std::string v) { return Value::string(std::move(v)); }

// Arguments after binding: every parameter has a value (given or default), normalised to its type
// (a Size is always a tuple of `arity` ints, a Name an Ident, an Int where a Float is wanted a Float).
class BoundArgs {
  public:
    const Value& get(const std::string& name) const;
    bool has(const std::string& name) const { return values_.count(name) > 0; }
    bool given(const std::string& name) const { return given_.count(name) > 0; }
    bool is_none(const std::string& name) const { return get(name).kind == Value::Kind::None; }
    int64_t integer(const std::string& name) const { return get(name).i; }
    double number(const std::string& name) const { return get(name).as_double(); }
    bool flag(const std::string& name) const { return get(name).b; }
    const std::string& text(const std::string& name) const { return get(name).s; }
    std::vector<int64_t> ints(const std::string& name) const;
    // Where the user wrote this argument, or the call itself for a default.
    SrcLoc loc(const std::string& name) const;
    SrcLoc call_loc;

    void set(const std::string& name, Value v, bool given);
    const std::map<std::string, Value>& all() const { return values_; }

  private:
    std::map<std::string, Value> values_;
    std::map<std::string, bool> given_;
};

}  // namespace cnnc
