#include "sema/Written.h"

#include <stdexcept>

#include "sema/Bind.h"

namespace cnnc {

BoundArgs bind_written(const std::vector<ParamSpec>& params, const WrittenCall& call) {
    std::vector<NamedValue> args;
    auto spec = [&](const std::string& k) -> const ParamSpec& {
        for (const ParamSpec& p : params)
            if (p.name == k) return p;
        throw std::logic_error("internal: " + call.name + " has no argument '" + k + "'");
    };
    for (const auto& [k, x] : call.num) {
        const ArgType t = spec(k).type;
        args.push_back({k, {}, t == ArgType::Bool ? B(x != 0) : t == ArgType::Int ? I(static_cast<int64_t>(x)) : F(x)});
    }
    for (const auto& [k, s] : call.str) args.push_back({k, {}, spec(k).type == ArgType::String ? S(s) : N(s)});
    SourceManager sources;
    Diagnostics diags(sources);
    std::optional<BoundArgs> bound = bind_args(params, args, call.name, SrcLoc{}, diags);
    if (!bound) throw std::logic_error("internal: the arguments of " + call.name + " do not bind: " + (diags.all().empty() ? std::string("?") : diags.all().front().message));
    return *bound;
}

template <class T>
static const T& entry(const std::vector<T>& list, const std::string& name) {
    const T* k = find_builtin(list, name);
    if (!k) throw std::logic_error("internal: no builtin named '" + name + "'");
    return *k;
}

std::unique_ptr<rt::Optimizer> make_optimizer(const WrittenCall& call) {
    const OptimizerKind& k = entry(optimizers(), call.name);
    return k.make(k.name, bind_written(k.params, call));
}

rt::LossSpec make_loss(const WrittenCall& call) {
    const LossKind& k = entry(losses(), call.name);
    return k.make(k.name, bind_written(k.params, call));
}

std::unique_ptr<rt::Callback> make_callback(const WrittenCall& call, const std::string& output_dir) {
    const CallbackKind& k = entry(callbacks(), call.name);
    return k.make(bind_written(k.params, call), output_dir);
}

}  // namespace cnnc
