#include "ir/Value.h"

namespace cnnc {

const char* kind_name(Value::Kind k) {
    switch (k) {
        case Value::Kind::None: return "None";
        case Value::Kind::Bool: return "a boolean";
        case Value::Kind::Int: return "an integer";
        case Value::Kind::Float: return "a number";
        case Value::Kind::String: return "a string";
        case Value::Kind::Ident: return "a name";
        case Value::Kind::Ref: return "a reference";
        case Value::Kind::Tuple: return "a tuple";
        case Value::Kind::List: return "a list";
        case Value::Kind::Call: return "a call";
        case Value::Kind::Dict: return "a dict";
    }
    return "?";
}

std::string to_string(const Value& v) {
    switch (v.kind) {
        case Value::Kind::None: return "None";
        case Value::Kind::Bool: return v.b ? "true" : "false";
        case Value::Kind::Int: return std::to_string(v.i);
        case Value::Kind::Float: {
            // Keep a float looking like one: 1.0, not 1 (the user wrote a number, not an integer).
            std::string t = fmt::format("{:g}", v.f);
            if (t.find_first_of(".eEn") == std::string::npos) t += ".0";
            return t;
        }
        case Value::Kind::String: return fmt::format("\"{}\"", v.s);
        case Value::Kind::Ident:
        case Value::Kind::Ref: return v.s;
        case Value::Kind::Tuple:
        case Value::Kind::List: {
            std::string out = v.kind == Value::Kind::Tuple ? "(" : "[";
            for (size_t k = 0; k < v.items.size(); ++k) out += (k ? ", " : "") + to_string(v.items[k]);
            if (v.kind == Value::Kind::Tuple && v.items.size() == 1) out += ",";
            return out + (v.kind == Value::Kind::Tuple ? ")" : "]");
        }
        case Value::Kind::Call:
        case Value::Kind::Dict: {
            const bool dict = v.kind == Value::Kind::Dict;
            std::string out = dict ? "{" : v.s + "(";
            for (size_t k = 0; k < v.args.size(); ++k) {
                if (k) out += ", ";
                if (!v.args[k].name.empty()) out += v.args[k].name + " = ";
                out += to_string(v.args[k].value);
            }
            return out + (dict ? "}" : ")");
        }
    }
    return "?";
}

}  // namespace cnnc
