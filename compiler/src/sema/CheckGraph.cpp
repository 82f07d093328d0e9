// The graph side of model expansion: tensor names (`as`, `from`, `output`, a merge's and a block's
// tensor arguments), merges' input counts and shape errors, and tensors that lead nowhere.
// A name is readable only after the statement that makes it, so a model cannot hold a cycle.
#include <fmt/format.h>

#include "sema/Checker.h"

namespace cnnc {

void Checker::define(const ast::Ident& n, TensorId t, Cursor& cur) {
    auto it = cur.names->own.find(n.name);
    if (it != cur.names->own.end()) {
        auto& e = diags_.error(n.loc, "the name '{}' is already given to a tensor here", n.name);
        Diagnostics::note(e, it->second.second, "first given here");
        return;
    }
    cur.names->own[n.name] = {t, n.loc};
    Made& m = cur.of(t);
    if (m.named.empty()) m.named = n;
}

std::optional<TensorId> Checker::find_tensor(const std::string& n, const Cursor& cur) const {
    for (const Names* s = cur.names; s; s = s->parent) {
        auto it = s->own.find(n);
        if (it != s->own.end()) return it->second.first;
    }
    return std::nullopt;
}

std::optional<TensorId> Checker::resolve(const ast::Ident& n, Cursor& cur) {
    if (auto t = find_tensor(n.name, cur)) return t;
    std::vector<std::string> visible;
    for (const Names* s = cur.names; s; s = s->parent)
        for (const auto& [name, _] : s->own) visible.push_back(name);
    diags_.error(n.loc, "no tensor is named '{}' here{}", n.name, suggestion_suffix(n.name, visible));
    return std::nullopt;
}

// False, after an error, where a statement needs a running tensor and there is none: a model with
// several inputs says which one its layers start from.
bool Checker::has_running(SrcLoc at, Cursor& cur) {
    if (cur.running) return true;
    std::vector<std::string> names;
    for (const auto& in : cur.inputs) names.push_back(in.name);
    diags_.error(at, "the model has several inputs ({}): say which one this reads with `from {}` first", fmt::join(names, ", "),
                 names.front());
    cur.running = true;  // once: the layers after it are checked from the first input
    cur.broken = true;
    return false;
}

bool Checker::merge_arity_ok(const LayerNode& node, const ast::Stmt& s) {
    const LayerKind& k = *node.kind;
    int n = static_cast<int>(node.inputs.size());
    if (n < k.min_inputs) {
        diags_.error(s.loc, "layer '{}' ({}) merges at least {} tensors, but gets {}: name the others, {}(x), or give it "
                            "branches, {} {{ branch {{ ... }} branch {{ ... }} }}",
                     node.name, k.name, k.min_inputs, n, k.name, k.name);
        return false;
    }
    if (k.max_inputs && n > k.max_inputs) {
        diags_.error(s.loc, "layer '{}' ({}) merges at most {} tensors, but gets {}", node.name, k.name, k.max_inputs, n);
        return false;
    }
    return true;
}

// A merge whose inputs do not fit: the error names each input's shape and what made it, and a
// note points at each.
void Checker::report_merge(const LayerNode& node, const ast::Stmt& s, Cursor& cur, const std::string& why) {
    std::string list;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
        const Made& m = cur.of(node.inputs[i]);
        list += fmt::format("{}{} from {} (line {})", i ? ", " : "", m.shape->str(), m.what, m.loc.line);
    }
    auto& e = diags_.error(s.loc, "layer '{}' ({}) cannot merge its inputs {}: {}", node.name, node.kind->name, list, why);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
        const Made& m = cur.of(node.inputs[i]);
        Diagnostics::note(e, m.loc, fmt::format("input {}, {}, is made here by {}", i + 1, m.shape->str(), m.what));
    }
}

// Every tensor must be read by a layer or be an output; one that is not is a branch or named
// point that leads nowhere (in Keras, layers the model silently drops).
void Checker::check_dangling(const Model& m, Cursor& cur) {
    auto is_output = [&](TensorId t) { return std::find(m.outputs.begin(), m.outputs.end(), t) != m.outputs.end(); };
    auto check = [&](TensorId t) {
        const Made& made = cur.of(t);
        if (made.read || is_output(t)) return;
        if (!made.named.empty())
            diags_.error(made.named.loc, "the tensor named '{}' leads nowhere: no layer reads it and it is not an output of "
                                         "model '{}'", made.named.name, m.name);
        else
            diags_.error(made.loc, "the output of {} leads nowhere: no layer reads it and it is not an output of model '{}'",
                         made.what, m.name);
    };
    for (size_t i = 0; i < m.inputs.size(); ++i) check(input_tensor(static_cast<int>(i)));
    for (size_t i = 0; i < cur.made.size(); ++i) check(static_cast<TensorId>(i));
}

}  // namespace cnnc
