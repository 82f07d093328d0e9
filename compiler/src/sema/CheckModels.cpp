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

Model Checker::check_model(const ast::Decl& d) {
    Model m;
    m.name = d.name;
    m.loc = d.name_loc;
    Scope scope;
    Cursor cur;
    size_t start = 0;
    if (!d.body.empty() && d.body[0].kind == ast::Stmt::Kind::Call && d.body[0].name == "input") {
        if (!read_input(d.body[0], cur)) cur.broken = true;
        start = 1;
    }
    std::vector<ast::Stmt> rest(d.body.begin() + static_cast<long>(start), d.body.end());
    expand(rest, {}, m.layers, scope, cur, Context{});
    m.has_input = cur.has_input;
    if (!cur.has_input && !cur.broken && !d.body.empty()) {
        diags_.error(d.name_loc,
                     "model '{}' has no input shape: start it with input(...), e.g. input(28, 28, 1), or give its first layer "
                     "input_shape = (...)",
                     d.name);
    }
    if (d.body.empty()) diags_.error(d.name_loc, "model '{}' has no layers", d.name);
    m.shaped = cur.has_input && !cur.broken && cur.shape.has_value();
    if (m.shaped) {
        // The input shape is the first layer's input, or the declared one for an empty model.
        m.input = m.layers.empty() ? *cur.shape : m.layers.front().in;
    }
    if (cur.has_input) m.inputs.push_back({"input", m.input, cur.input_loc});
    m.outputs = {cur.tensor};
    return m;
}

// input(28, 28, 1), input((28, 28, 1)) or input(shape = (28, 28, 1)).
bool Checker::read_input(const ast::Stmt& s, Cursor& cur) {
    auto args = eval_args(s.args, {}, diags_);
    if (!args) return false;
    std::vector<NamedValue> normal;
    if (!args->empty() && args->size() > 1 && (*args)[0].name.empty()) {
        Value t = Value::tuple({}, (*args)[0].value.loc);
        for (auto& a : *args) {
            if (!a.name.empty()) {
                diags_.error(a.name_loc, "input(...) takes the shape as its only argument");
                return false;
            }
            t.items.push_back(a.value);
        }
        normal.push_back({"", t.loc, t});
    } else {
        normal = *args;
    }
    static const std::vector<ParamSpec> schema = {required("shape", ArgType::Dims).min(1)};
    auto b = bind_args(schema, normal, "input", s.loc, diags_);
    if (!b) return false;
    if (Shape(b->ints("shape")).elements() > kMaxValues) {
        diags_.error(s.loc, "input shape {} is too large", Shape(b->ints("shape")));
        return false;
    }
    cur.shape = Shape(b->ints("shape"));
    cur.has_input = true;
    cur.input_loc = s.loc;
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

void Checker::expand(const std::vector<ast::Stmt>& body, const Env& env, std::vector<LayerNode>& out, Scope& scope,
                     Cursor& cur, const Context& ctx) {
    for (const ast::Stmt& s : body) {
        if (cur.aborted) return;
        if (s.kind == ast::Stmt::Kind::Repeat) {
            auto n = eval(s.count, env, diags_);
            if (!n) {
                cur.broken = true;
                continue;
            }
            if (n->kind != Value::Kind::Int || n->i < 0 || n->i > kMaxRepeat) {
                diags_.error(s.count.loc, "repeat count must be an integer in [0, {}], got {}", kMaxRepeat, *n);
                cur.broken = true;
                continue;
            }
            for (int64_t i = 1; i <= n->i; ++i) {
                Env inner = env;
                if (!s.var.empty()) inner[s.var] = Value::integer(i, s.var_loc);
                expand(s.body, inner, out, scope, cur, ctx);
            }
            continue;
        }
        if (s.name == "input") {
            diags_.error(s.loc, "input(...) must be the first statement of a model");
            cur.broken = true;
            continue;
        }
        if (const ast::Decl* d = lookup(s.name)) {
            if (d->kind == ast::Decl::Kind::Block || d->kind == ast::Decl::Kind::Augmentation) {
                if (ctx.augmentation_only) {
                    diags_.error(s.loc, "an augmentation may only contain random transforms (RandomFlip, RandomRotation, RandomZoom)");
                    cur.broken = true;
                    continue;
                }
                used_groups_.insert(d->name);
                expand_group(s, *d, env, out, scope, cur, ctx);
            } else {
                diags_.error(s.loc, "'{}' is a {}, not a layer or block", s.name, ast::decl_kind_name(d->kind));
                cur.broken = true;
            }
            continue;
        }
        if (const LayerKind* k = find_layer(s.name)) {
            expand_layer(s, *k, env, out, scope, cur, ctx);
            continue;
        }
        std::vector<std::string> cands = layer_names();
        for (auto& n : names_of(ast::Decl::Kind::Block)) cands.push_back(n);
        for (auto& n : names_of(ast::Decl::Kind::Augmentation)) cands.push_back(n);
        diags_.error(s.loc, "unknown layer or block '{}'{}", s.name, suggestion_suffix(s.name, cands));
        cur.broken = true;
    }
}

void Checker::expand_layer(const ast::Stmt& s, const LayerKind& kind, const Env& env, std::vector<LayerNode>& out,
                           Scope& scope, Cursor& cur, const Context& ctx) {
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
    auto args = eval_args(s.args, env, diags_);
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
        std::string why = kind.validate(*bound);
        if (!why.empty()) {
            diags_.error(s.loc, "{}: {}", kind.name, why);
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
        }
    }
    if (kind.is_merge()) {  // the graph syntax that gives a merge its inputs comes with h/syntax's checker
        diags_.error(s.loc, "{} reads several tensors, which this checker cannot give it yet", kind.name);
        cur.broken = true;
    }
    if (!cur.broken && cur.shape) {
        ShapeResult r = kind.infer(*bound, *cur.shape);
        if (!r.error.empty()) {
            diags_.error(s.loc, "layer '{}' ({}) cannot take input of shape {}: {}", node.name, kind.name, *cur.shape, r.error);
            cur.broken = true;
        } else {
            node.in = *cur.shape;
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
            if (kind.flops) node.flops = kind.flops(*bound, node.in, node.out);
            if (!cur.broken) cur.shape = r.out;
        }
    }
    if (cur.broken) cur.shape.reset();
    if (node.trainable && !node.weights.empty() && !cur.trainable_loc.valid()) cur.trainable_loc = s.loc;
    node.id = cur.next_id++;
    node.inputs = {cur.tensor};
    if (node.shaped) node.ins = {node.in};
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
    Env inner;
    for (const auto& p : g.params) inner[p.name] = bound->get(p.name);

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
void Checker::lint_unused(const ast::Decl& d) {
    std::vector<std::string> cands = layer_names();
    for (auto& n : names_of(ast::Decl::Kind::Block)) cands.push_back(n);
    for (auto& n : names_of(ast::Decl::Kind::Augmentation)) cands.push_back(n);
    std::function<void(const std::vector<ast::Stmt>&)> walk = [&](const std::vector<ast::Stmt>& body) {
        for (const auto& s : body) {
            if (s.kind == ast::Stmt::Kind::Repeat) {
                walk(s.body);
                continue;
            }
            if (find_layer(s.name)) continue;
            if (const ast::Decl* x = lookup(s.name)) {
                if (x->kind != ast::Decl::Kind::Block && x->kind != ast::Decl::Kind::Augmentation)
                    diags_.error(s.loc, "'{}' is a {}, not a layer or block", s.name, ast::decl_kind_name(x->kind));
                continue;
            }
            diags_.error(s.loc, "unknown layer or block '{}'{}", s.name, suggestion_suffix(s.name, cands));
        }
    };
    walk(d.body);
}

}  // namespace cnnc
