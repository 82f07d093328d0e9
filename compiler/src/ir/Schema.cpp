#include "ir/Schema.h"

#include <stdexcept>

namespace cnnc {

ParamSpec required(std::string name, ArgType t) {
    ParamSpec p;
    p.name = std::move(name);
    p.type = t;
    p.required = true;
    return p;
}

ParamSpec optional(std::string name, ArgType t, Value def) {
    ParamSpec p;
    p.name = std::move(name);
    p.type = t;
    p.default_value = std::move(def);
    if (p.default_value.kind == Value::Kind::None) p.nullable = true;
    return p;
}

const Value& BoundArgs::get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw std::logic_error("internal: no argument '" + name + "' in schema");
    return it->second;
}

std::vector<int64_t> BoundArgs::ints(const std::string& name) const {
    const Value& v = get(name);
    std::vector<int64_t> out;
    if (v.kind == Value::Kind::Int) out.push_back(v.i);
    for (const Value& x : v.items) out.push_back(x.i);
    return out;
}

SrcLoc BoundArgs::loc(const std::string& name) const {
    if (given(name)) return get(name).loc;
    return call_loc;
}

void BoundArgs::set(const std::string& name, Value v, bool given) {
    values_[name] = std::move(v);
    if (given) given_[name] = true;
}


}  // namespace cnnc
