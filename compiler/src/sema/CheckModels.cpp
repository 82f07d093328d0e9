// Model expansion: statements become a tree of layers (blocks and augmentations as groups), every
// layer's arguments are bound to its schema, and the shape is pushed through each layer's rule,
// stopping at the first shape that cannot work (later layers' arguments are still checked).
#include <fmt/format.h>

#include "sema/Checker.h"

namespace cnnc {

static constexpr int kMaxDepth = 32;
static constexpr int64_t kMaxRepeat = 10000;
// Beyond these a model cannot be trained on any machine; refusing them early also keeps every
// count in 64-bit range and the checker fast on hostile input.
static constexpr int64_t kMaxLayers = 100000;
static constexpr int64_t kMaxValues = int64_t(1) << 40;

// The statements that declare a model's inputs: `input(28, 28, 1)` or `input image(64, 64, 3)`.
static bool is_input_stmt(const ast::Stmt& s) {
    return s.kind == ast::Stmt::Kind::Input || (s.kind == ast::Stmt::Kind::Call && s.name == "input");
}

Model Checker::check_model(const ast::Decl& d) {
    Model m;
    m.name = d.name;
    m.loc = d.name_loc;
    Scope scope;
    Cursor cur;
    Names names;
    cur.names = &names;
    int errors_before = diags_.error_count();
    size_t start = 0;
    while (start < d.body.size() && is_input_stmt(d.body[start])) {
        if (!read_input(d.body[start], cur)) cur.broken = true;
        ++start;
    }
    if (cur.inputs.empty())  // until the first layer's input_shape gives it
        cur.made_inputs.push_back({"the model's input", d.name_loc, std::nullopt, {}, false});
    if (cur.inputs.size() > 1) {
        cur.running = false;  // until `from` says which input the layers start from
        cur.shape.reset();
    }
    std::vector<ast::Stmt> rest(d.body.begin() + static_cast<long>(start), d.body.end());
    Context ctx;
    ctx.model_top = true;
    expand(rest, {}, m.layers, scope, cur, ctx);
    m.has_input = cur.has_input;
    if (!cur.has_input && !cur.broken && !d.body.empty()) {
        diags_.error(d.name_loc,
                     "model '{}' has no input shape: start it with input(...), e.g. input(28, 28, 1), or give its first layer "
                     "input_shape = (...)",
                     d.name);
    }
    if (d.body.empty()) diags_.error(d.name_loc, "model '{}' has no layers", d.name);
    m.inputs = cur.inputs;
    if (!m.inputs.empty()) m.input = m.inputs.front().shape;
    m.outputs = cur.outputs;
    m.output_names = cur.output_names;
    if (m.outputs.empty() && (cur.running || !m.layers.empty())) {
        m.outputs = {cur.tensor};
        // Keras names an output after the layer that makes it.
        std::vector<const LayerNode*> leaves = m.leaves();
        m.output_names = {is_input(cur.tensor) ? (m.inputs.empty() ? "input" : m.inputs[static_cast<size_t>(input_index(cur.tensor))].name)
                          : static_cast<size_t>(cur.tensor) < leaves.size() ? leaves[static_cast<size_t>(cur.tensor)]->name : "output"};
    }
    m.shaped = cur.has_input && !cur.broken && !m.outputs.empty();
    for (TensorId t : m.outputs) m.shaped = m.shaped && cur.of(t).shape.has_value();
    if (diags_.error_count() == errors_before) check_dangling(m, cur);
    return m;
}

// input(28, 28, 1), input((28, 28, 1)) or input(shape = (28, 28, 1)); `input image(...)` names it.
bool Checker::read_input(const ast::Stmt& s, Cursor& cur) {
    ast::Ident name = s.refs.empty() ? ast::Ident{"input", s.loc} : s.refs.front();
    // The input exists whatever its shape says, so later statements can name it.
    TensorId t = input_tensor(static_cast<int>(cur.inputs.size()));
    cur.inputs.push_back({name.name, Shape{}, s.loc});
    cur.made_inputs.push_back({fmt::format("input '{}'", name.name), s.loc, std::nullopt, {}, false});
    cur.tensor = t;
    define(name, t, cur);
    cur.has_input = true;
    if (cur.inputs.size() == 1) cur.input_loc = s.loc;
    auto args = eval_args(s.args, {}, diags_);
    if (!args) return false;
    std::vector<NamedValue> normal;
    if (!args->empty() && args->size() > 1 && (*args)[0].name.empty()) {
        Value tuple = Value::tuple({}, (*args)[0].value.loc);
        for (auto& a : *args) {
            if (!a.name.empty()) {
                diags_.error(a.name_loc, "input(...) takes the shape as its only argument");
                return false;
            }
            tuple.items.push_back(a.value);
        }
        normal.push_back({"", tuple.loc, tuple});
    } else {
        normal = *args;
    }
    static const std::vector<ParamSpec> schema = {required("shape", ArgType::Dims).min(1)};
    auto b = bind_args(schema, normal, "input", s.loc, diags_);
    if (!b) return false;
    Shape shape(b->ints("shape"));
    if (shape.elements() > kMaxValues) {
        diags_.error(s.loc, "input shape {} is too large", shape);
        return false;
    }
    cur.inputs.back().shape = shape;
    cur.made_inputs.back().shape = shape;
    cur.shape = shape;
    return true;
}

std::string Checker::unique_name(Scope& scope, const std::string& base, const std::optional<std::string>& given, SrcLoc loc) {
    if (given) {
        auto it = scope.taken.find(*given);
        if (it != scope.taken.end()) {
            auto& e = diags_.error(loc, "layer name '{}' is already used in this model", *given);
            Diagnostics::note(e, it->second, "first used here");
        }
        scope.taken[*given] = loc;
        return *given;
    }
    // Keras numbering: conv2d, conv2d_1, conv2d_2 ... skipping names the user took explicitly.
    for (;;) {
        int n = scope.counters[base]++;
        std::string name = n == 0 ? base : fmt::format("{}_{}", base, n);
        if (!scope.taken.count(name)) {
            scope.taken[name] = loc;
            return name;
        }
    }
}

// Opens a pair of braces' tensor names for as long as it lives; `sees_outside` is false for a
// block's body, which sees only its parameters.
class Checker::NestedNames {
  public:
    NestedNames(Cursor& cur, bool sees_outside) : cur_(cur), saved_(cur.names) {
        names_.parent = sees_outside ? saved_ : nullptr;
        cur.names = &names_;
    }
    ~NestedNames() { cur_.names = saved_; }
    Names& names() { return names_; }

  private:
    Cursor& cur_;
    Names* saved_;
    Names names_;
};

void Checker::expand(const std::vector<ast::Stmt>& body, const Env& env, std::vector<LayerNode>& out, Scope& scope,
                     Cursor& cur, const Context& ctx) {
    using K = ast::Stmt::Kind;
    Context inner = ctx;
    inner.model_top = false;
    for (const ast::Stmt& s : body) {
        if (cur.aborted) return;
        switch (s.kind) {
            case K::Repeat: expand_repeat(s, env, out, scope, cur, inner); break;
            case K::If: expand_if(s, env, out, scope, cur, inner); break;
            case K::Branches:
            case K::Residual: expand_branches(s, env, out, scope, cur, inner); break;
            case K::From:
                if (auto t = resolve(s.refs.front(), cur)) {
                    cur.tensor = *t;
                    cur.running = true;
                    if (!cur.broken) cur.shape = cur.of(*t).shape;
                } else {
                    cur.broken = true;
                }
                break;
            case K::Output:
                if (!ctx.model_top) {
                    diags_.error(s.loc, "'output' lists a model's outputs: it belongs in the model's own statements, not in a "
                                        "block, branch or repeat");
                    cur.broken = true;
                } else if (cur.outputs_loc.valid()) {
                    auto& e = diags_.error(s.loc, "the model's outputs are given twice");
                    Diagnostics::note(e, cur.outputs_loc, "first given here");
                } else {
                    cur.outputs_loc = s.loc;
                    for (const auto& r : s.refs)
                        if (auto t = resolve(r, cur)) cur.outputs.push_back(*t), cur.output_names.push_back(r.name);
                }
                break;
            case K::Input:
                diags_.error(s.loc, "input(...) must come before a model's layers");
                cur.broken = true;
                break;
            case K::Call:
                if (s.name == "input") {
                    diags_.error(s.loc, "input(...) must be the first statement of a model");
                    cur.broken = true;
                } else if (const ast::Decl* d = lookup(s.name)) {
                    if (d->kind == ast::Decl::Kind::Block || d->kind == ast::Decl::Kind::Augmentation) {
                        if (ctx.augmentation_only) {
                            diags_.error(s.loc,
                                         "an augmentation may only contain random transforms (RandomFlip, RandomRotation, RandomZoom)");
                            cur.broken = true;
                            break;
                        }
                        used_groups_.insert(d->name);
                        expand_group(s, *d, env, out, scope, cur, inner);
                    } else {
                        diags_.error(s.loc, "'{}' is a {}, not a layer or block", s.name, ast::decl_kind_name(d->kind));
                        cur.broken = true;
                    }
                } else if (const LayerKind* k = find_layer(s.name)) {
                    expand_call(s, *k, env, out, scope, cur, inner);
                } else {
                    std::vector<std::string> cands = layer_names();
                    for (auto& n : names_of(ast::Decl::Kind::Block)) cands.push_back(n);
                    for (auto& n : names_of(ast::Decl::Kind::Augmentation)) cands.push_back(n);
                    diags_.error(s.loc, "unknown layer or block '{}'{}", s.name, suggestion_suffix(s.name, cands));
                    cur.broken = true;
                }
                break;
        }
        if (!s.as.empty() && cur.running) define(s.as, cur.tensor, cur);
    }
}

// `repeat n { ... }`: the body once per iteration, each with its own names.
void Checker::expand_repeat(const ast::Stmt& s, const Env& env, std::vector<LayerNode>& out, Scope& scope, Cursor& cur,
                            const Context& ctx) {
    auto n = eval(s.count, env, diags_);
    if (!n) {
        cur.broken = true;
        return;
    }
    if (n->kind != Value::Kind::Int || n->i < 0 || n->i > kMaxRepeat) {
        diags_.error(s.count.loc, "repeat count must be an integer in [0, {}], got {}", kMaxRepeat, *n);
        cur.broken = true;
        return;
    }
    for (int64_t i = 1; i <= n->i; ++i) {
        Env inner = env;
        if (!s.var.empty()) inner[s.var] = Value::integer(i, s.var_loc);
        NestedNames names(cur, true);
        expand(s.body, inner, out, scope, cur, ctx);
    }
}

// `if c { } else { }`: the body whose condition holds expands, in its own names (as a branch's);
// the others are only checked for names that resolve, so a typo there is found whichever way the
// block is used. No body taken: the running tensor passes through.
void Checker::expand_if(const ast::Stmt& s, const Env& env, std::vector<LayerNode>& out, Scope& scope, Cursor& cur,
                        const Context& ctx) {
    auto holds = eval_condition(s.cond, env, diags_);
    if (!holds) {
        cur.broken = true;
        return;
    }
    const size_t taken = *holds ? 0 : 1;
    for (size_t i = 0; i < s.branches.size(); ++i) {
        if (i != taken) {
            lint_names(s.branches[i].body);
            continue;
        }
        NestedNames names(cur, true);
        expand(s.branches[i].body, env, out, scope, cur, ctx);
    }
}

// Whether argument `a` (positional number `pos` when unnamed) is one whose values are names
// (activation = relu, padding = same): a tensor's name there is a value, not a mistaken tensor.
static bool takes_names(const LayerKind& kind, const ast::Arg& a, size_t pos) {
    const ParamSpec* spec = nullptr;
    for (size_t i = 0; i < kind.params.size() && !spec; ++i)
        if (a.name.empty() ? i == pos : kind.params[i].name == a.name) spec = &kind.params[i];
    if (!spec) return false;
    switch (spec->type) {
        case ArgType::Name:
        case ArgType::Activation:
        case ArgType::Initializer:
        case ArgType::Regularizer:
        case ArgType::Any: return true;
        default: return false;
    }
}

// A layer written as a call. A merge's positional arguments name the tensors it reads after the
// running one (`Concatenate(e1, axis = -1)`); any other layer reads only the running tensor.
void Checker::expand_call(const ast::Stmt& s, const LayerKind& kind, const Env& env, std::vector<LayerNode>& out, Scope& scope,
                          Cursor& cur, const Context& ctx) {
    if (!has_running(s.loc, cur)) return;
    std::vector<TensorId> inputs = {cur.tensor};
    std::vector<ast::Arg> rest;
    for (const ast::Arg& a : s.args) {
        bool bare_name = a.value.kind == ast::Expr::Kind::Ref && a.value.path.size() == 1 && !env.count(a.value.text);
        if (kind.is_merge() && a.name.empty()) {
            bool one_name = a.value.kind == ast::Expr::Kind::Ref && a.value.path.size() == 1;
            if (one_name && !bare_name) {
                diags_.error(a.value.loc, "'{}' is a parameter holding {}, not a tensor: {}'s positional arguments name the "
                                          "tensors it merges", a.value.text, env.at(a.value.text), kind.name);
                cur.broken = true;
                return;
            }
            if (!bare_name) {
                diags_.error(a.value.loc, "{}'s positional arguments name the tensors it merges; give its own arguments by name, "
                                          "e.g. axis = -1", kind.name);
                cur.broken = true;
                return;
            }
            auto t = resolve({a.value.text, a.value.loc}, cur);
            if (!t) {
                cur.broken = true;
                return;
            }
            inputs.push_back(*t);
            continue;
        }
        if (bare_name && !takes_names(kind, a, rest.size()) && find_tensor(a.value.text, cur)) {
            diags_.error(a.value.loc, "'{}' is a tensor, but {} reads only the running tensor: only a merge layer (Add, "
                                      "Concatenate...) takes tensors, or use `from {}`", a.value.text, kind.name, a.value.text);
            cur.broken = true;
            return;
        }
        rest.push_back(a);
    }
    expand_layer(s, kind, rest, std::move(inputs), env, out, scope, cur, ctx);
}

void Checker::report_not_merge(const ast::Stmt& s) {
    std::vector<std::string> merges;
    for (const LayerKind* k : all_layers())
        if (k->is_merge()) merges.push_back(k->name);
    diags_.error(s.loc, "'{}' takes no branches: only a merge layer does ({}){}", s.name, fmt::join(merges, ", "),
                 suggestion_suffix(s.name, merges));
}

// `Concatenate { branch { ... } ... }` and `residual { ... } shortcut { ... }`: each branch runs
// from the running tensor, in its own names; the merge reads their last tensors in order (an empty
// branch: the running tensor itself).
void Checker::expand_branches(const ast::Stmt& s, const Env& env, std::vector<LayerNode>& out, Scope& scope, Cursor& cur,
                              const Context& ctx) {
    bool residual = s.kind == ast::Stmt::Kind::Residual;
    const LayerKind* kind = find_layer(residual ? "Add" : s.name);
    if (!kind || !kind->is_merge()) {
        report_not_merge(s);
        cur.broken = true;
        return;
    }
    for (const ast::Arg& a : s.args)
        if (a.name.empty()) {
            diags_.error(a.value.loc, "the tensors {} merges are its branches; give its own arguments by name, e.g. axis = -1",
                         s.name);
            cur.broken = true;
            return;
        }
    if (!has_running(s.loc, cur)) return;
    const TensorId start = cur.tensor;
    std::vector<TensorId> ends;
    static const ast::Branch identity;  // a residual without a shortcut
    const size_t n = s.branches.size() + (residual && s.branches.size() == 1 ? 1 : 0);
    for (size_t i = 0; i < n; ++i) {
        const ast::Branch& b = i < s.branches.size() ? s.branches[i] : identity;
        cur.tensor = start;
        if (!cur.broken) cur.shape = cur.of(start).shape;
        NestedNames names(cur, true);
        expand(b.body, env, out, scope, cur, ctx);
        ends.push_back(cur.tensor);
    }
    expand_layer(s, *kind, s.args, std::move(ends), env, out, scope, cur, ctx);
}

// One leaf layer reading `inputs` (the running tensor, or a merge's tensors), bound to `args`;
// its output becomes the running tensor.
void Checker::expand_layer(const ast::Stmt& s, const LayerKind& kind, const std::vector<ast::Arg>& args_written,
                           std::vector<TensorId> inputs, const Env& env, std::vector<LayerNode>& out, Scope& scope, Cursor& cur,
                           const Context& ctx) {
    bool first = cur.first_layer;
    cur.first_layer = false;
    if (++cur.layers > kMaxLayers) {
        diags_.error(s.loc, "the model expands to more than {} layers", kMaxLayers);
        cur.aborted = cur.broken = true;
        return;
    }
    if (ctx.augmentation_only && !kind.augmentation) {
        diags_.error(s.loc, "an augmentation may only contain random transforms (RandomFlip, RandomRotation, RandomZoom), not {}",
                     kind.name);
        cur.broken = true;
        return;
    }
    auto args = eval_args(args_written, env, diags_);
    if (!args) {
        cur.broken = true;
        return;
    }
    auto bound = bind_args(kind.params, *args, kind.name, s.loc, diags_);
    if (!bound) {
        cur.broken = true;
        return;
    }
    // The random transforms have no gradient: gradients reaching one (from a trainable layer
    // before it) would stop training at its first step.
    if (kind.augmentation && cur.trainable_loc.valid()) {
        auto& e = diags_.error(s.loc, "{} after a trainable layer: augmentation has no gradient, so it must come before every "
                               "trainable layer", kind.name);
        Diagnostics::note(e, cur.trainable_loc, "the first trainable layer");
        cur.broken = true;
        return;
    }
    if (kind.validate) {
        Invalid bad = kind.validate(*bound);
        if (!bad.why.empty()) {
            diags_.error(bad.arg.empty() ? s.loc : bound->loc(bad.arg), "{}: {}", kind.name, bad.why);
            cur.broken = true;
            return;
        }
    }
    LayerNode node;
    node.kind = &kind;
    node.type = kind.name;
    node.loc = s.loc;
    node.args = *bound;
    node.trainable = bound->flag("trainable") && !ctx.frozen;
    std::optional<std::string> given;
    if (!bound->is_none("name")) given = bound->text("name");
    node.name = unique_name(scope, snake_case(kind.name), given, bound->loc("name"));

    if (!bound->is_none("input_shape")) {
        if (!first || !ctx.stack.empty()) {
            diags_.error(bound->loc("input_shape"), "input_shape is only allowed on a model's first layer");
            cur.broken = true;
        } else if (cur.has_input) {
            auto& e = diags_.error(bound->loc("input_shape"), "the model's input shape is given twice");
            Diagnostics::note(e, cur.input_loc, "first given here");
            cur.broken = true;
        } else {
            cur.shape = Shape(bound->ints("input_shape"));
            cur.has_input = true;
            cur.input_loc = bound->loc("input_shape");
            cur.inputs.push_back({"input", *cur.shape, cur.input_loc});
            cur.made_inputs.at(0).shape = cur.shape;
        }
    }
    node.inputs = std::move(inputs);
    std::vector<Shape> ins;
    for (TensorId t : node.inputs) {
        Made& m = cur.of(t);
        m.read = true;
        if (m.shape) ins.push_back(*m.shape);
    }
    if (kind.is_merge() && !merge_arity_ok(node, s)) cur.broken = true;
    if (!cur.broken && ins.size() == node.inputs.size()) {
        ShapeResult r = kind.is_merge() ? kind.merge(*bound, ins) : kind.infer(*bound, ins.front());
        if (!r.error.empty()) {
            if (kind.is_merge())
                report_merge(node, s, cur, r.error);
            else
                diags_.error(s.loc, "layer '{}' ({}) cannot take input of shape {}: {}", node.name, kind.name, ins.front(), r.error);
            cur.broken = true;
        } else {
            node.in = ins.front();
            node.ins = ins;
            node.out = r.out;
            node.shaped = true;
            if (kind.weights) node.weights = kind.weights(*bound, node.in);
            int64_t biggest = r.out.elements();
            for (const auto& w : node.weights) biggest = std::max(biggest, w.shape.elements());
            if (biggest > kMaxValues) {
                diags_.error(s.loc, "layer '{}' ({}) is too large: a tensor of {} values", node.name, kind.name,
                             biggest == INT64_MAX ? std::string("more than 2^63") : std::to_string(biggest));
                cur.broken = true;
                node.shaped = false;
                node.weights.clear();
            }
            if (kind.merge_flops) node.flops = kind.merge_flops(*bound, node.ins, node.out);
            if (kind.flops) node.flops = kind.flops(*bound, node.in, node.out);
            if (!cur.broken) cur.shape = r.out;
        }
    }
    if (cur.broken) cur.shape.reset();
    if (node.trainable_count() > 0 && !cur.trainable_loc.valid()) cur.trainable_loc = s.loc;
    node.id = cur.next_id++;
    cur.made.push_back({fmt::format("layer '{}' ({})", node.name, kind.name), s.loc, std::nullopt, {}, false});
    if (node.shaped) cur.made.back().shape = node.out;
    cur.tensor = node.id;
    out.push_back(std::move(node));
}

void Checker::expand_group(const ast::Stmt& s, const ast::Decl& g, const Env& env, std::vector<LayerNode>& out, Scope& scope,
                           Cursor& cur, const Context& ctx) {
    bool is_aug = g.kind == ast::Decl::Kind::Augmentation;
    for (const auto& name : ctx.stack)
        if (name == g.name) {
            std::string chain;
            for (const auto& n : ctx.stack) chain += n + " -> ";
            diags_.error(s.loc, "block '{}' uses itself ({}{})", g.name, chain, g.name);
            cur.broken = true;
            return;
        }
    if (static_cast<int>(ctx.stack.size()) >= kMaxDepth) {
        diags_.error(s.loc, "blocks nested more than {} deep", kMaxDepth);
        cur.broken = true;
        return;
    }
    // The block's own parameters, then the arguments every group takes.
    std::vector<ParamSpec> schema;
    for (const auto& p : g.params) {
        if (p.name == "name" || p.name == "trainable" || p.name == "weights") {
            diags_.error(p.loc, "'{}' is reserved for every block; choose another parameter name", p.name);
            cur.broken = true;
            return;
        }
        if (p.default_value) {
            auto def = eval(*p.default_value, {}, diags_);
            if (!def) {
                cur.broken = true;
                return;
            }
            schema.push_back(optional(p.name, ArgType::Any, *def));
        } else {
            schema.push_back(required(p.name, ArgType::Any));
        }
    }
    schema.push_back(optional("name", ArgType::String, none()));
    schema.push_back(optional("trainable", ArgType::Bool, B(true)));
    schema.push_back(optional("weights", ArgType::String, none()).about("a Keras HDF5 weights file, matched by layer name"));
    auto args = eval_args(s.args, env, diags_);
    if (!args) {
        cur.broken = true;
        return;
    }
    std::string what = fmt::format("{} '{}'", ast::decl_kind_name(g.kind), g.name);
    auto bound = bind_args(schema, *args, what, s.loc, diags_);
    if (!bound) {
        cur.broken = true;
        return;
    }
    if (!has_running(s.loc, cur)) return;
    // A parameter given a tensor's name (`up(64, skip = e2)`) is that tensor inside the block, and
    // no value: only a merge can use it.
    Env inner;
    std::vector<std::pair<ast::Ident, TensorId>> tensor_params;
    for (const auto& p : g.params) {
        const Value& v = bound->get(p.name);
        std::optional<TensorId> t;
        if (bound->given(p.name) && v.kind == Value::Kind::Ident) t = find_tensor(v.s, cur);
        if (t)
            tensor_params.push_back({{p.name, v.loc}, *t});
        else
            inner[p.name] = v;
    }

    LayerNode node;
    node.type = g.name;
    node.loc = s.loc;
    node.augmentation_group = is_aug;
    node.args = *bound;
    node.trainable = bound->flag("trainable") && !ctx.frozen;
    if (!bound->is_none("weights")) node.weights_file = bound->text("weights");
    std::optional<std::string> given;
    if (!bound->is_none("name")) given = bound->text("name");
    node.name = unique_name(scope, g.name, given, bound->loc("name"));
    node.in = cur.shape.value_or(Shape{});

    Context inner_ctx = ctx;
    inner_ctx.frozen = !node.trainable;
    inner_ctx.augmentation_only = is_aug;
    inner_ctx.stack.push_back(g.name);
    Scope inner_scope;
    bool first = cur.first_layer;
    NestedNames names(cur, false);
    for (const auto& [name, t] : tensor_params) names.names().own[name.name] = {t, name.loc};
    expand(g.body, inner, node.children, inner_scope, cur, inner_ctx);
    if (first && !cur.has_input) cur.first_layer = true;  // an empty group does not consume "first layer"
    if (!cur.broken && cur.shape) {
        node.out = *cur.shape;
        node.shaped = cur.has_input;
    }
    out.push_back(std::move(node));
}

// A block or augmentation that no model uses is still checked for names that resolve, so a typo
// in a library file is found before anyone uses it.
void Checker::lint_unused(const ast::Decl& d) { lint_names(d.body); }

// Statements that are not expanded (an unused block, the bodies of an `if` not taken): every layer
// or block they name must exist.
void Checker::lint_names(const std::vector<ast::Stmt>& stmts) {
    std::vector<std::string> cands = layer_names();
    for (auto& n : names_of(ast::Decl::Kind::Block)) cands.push_back(n);
    for (auto& n : names_of(ast::Decl::Kind::Augmentation)) cands.push_back(n);
    std::function<void(const std::vector<ast::Stmt>&)> walk = [&](const std::vector<ast::Stmt>& body) {
        for (const auto& s : body) {
            using K = ast::Stmt::Kind;
            if (s.kind == K::Repeat) walk(s.body);
            for (const auto& b : s.branches) walk(b.body);
            const LayerKind* k = find_layer(s.name);
            if (s.kind == K::Branches && !(k && k->is_merge())) report_not_merge(s);
            if (s.kind != K::Call || k) continue;
            if (const ast::Decl* x = lookup(s.name)) {
                if (x->kind != ast::Decl::Kind::Block && x->kind != ast::Decl::Kind::Augmentation)
                    diags_.error(s.loc, "'{}' is a {}, not a layer or block", s.name, ast::decl_kind_name(x->kind));
                continue;
            }
            diags_.error(s.loc, "unknown layer or block '{}'{}", s.name, suggestion_suffix(s.name, cands));
        }
    };
    walk(stmts);
}

}  // namespace cnnc
