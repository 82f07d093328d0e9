// Datasets, callbacks, train and evaluate statements: everything that refers to a model, checked
// against it before any data is read (the loss fits the output, the labels fit the loss, the data
// fits the input, every monitored metric is one the run reports).
#include <fmt/format.h>

#include <functional>

#include "sema/Checker.h"

namespace cnnc {

// "1 input", "2 outputs".
static std::string counted(size_t n, const char* what) { return fmt::format("{} {}{}", n, what, n == 1 ? "" : "s"); }

std::optional<BoundArgs> Checker::bind_fields(const std::vector<ast::Field>& fields, const std::vector<ParamSpec>& schema,
                                              const std::string& what, SrcLoc loc) {
    std::vector<NamedValue> named;
    bool ok = true;
    for (const auto& f : fields) {
        auto v = eval(f.value, {}, diags_);
        if (!v) {
            ok = false;
            continue;
        }
        named.push_back({f.name, f.loc, *v});
    }
    auto b = bind_args(schema, named, what, loc, diags_);
    if (!ok) return std::nullopt;
    return b;
}

// An optimizer, loss or callback written as a name (`adam`, "adam") or a call (`adam(learning_rate = 1e-4)`).
template <class T>
const T* Checker::resolve_named(const std::vector<T>& list, const Value& v, const char* family, std::optional<BoundArgs>& args) {
    if (!v.is_name() && v.kind != Value::Kind::Call) {
        diags_.error(v.loc, "expected {} name or call, got {} {}", family, kind_name(v.kind), v);
        return nullptr;
    }
    const T* k = find_builtin(list, v.s);
    if (!k) {
        diags_.error(v.loc, "unknown {} '{}'{}", family, v.s, suggestion_suffix(v.s, builtin_names(list)));
        return nullptr;
    }
    args = bind_args(k->params, v.kind == Value::Kind::Call ? v.args : std::vector<NamedValue>{},
                     fmt::format("{} {}", family, k->name), v.loc, diags_);
    return args ? k : nullptr;
}

void Checker::check_member(Dataset& ds, const ast::Field& f) {
    auto v = eval(f.value, {}, diags_);
    if (!v) return;
    if (v->kind != Value::Kind::Call) {
        std::vector<std::string> opts;
        for (const auto& p : dataset_options()) opts.push_back(p.name);
        diags_.error(f.loc, "'{}' is not a dataset option{}; a dataset member must be a data source such as idx(...), "
                     "image_directory(...), csv(...) or sequences(...)", f.name, suggestion_suffix(f.name, opts));
        return;
    }
    std::optional<BoundArgs> args;
    const SourceKind* src = resolve_named(data_sources(), *v, "data source", args);
    if (!src) return;
    if (src->name == "features" && !check_features(*args)) return;
    check_source_args(*src, *args);
    ds.members.push_back({f.name, f.loc, src, *args});
}

// What the readers would refuse once the data is read, refused before: Keras' split arguments
// come as a pair, and a CSV delimiter is one character.
void Checker::check_source_args(const SourceKind& src, const BoundArgs& a) {
    if (a.has("validation_split") && a.is_none("validation_split") != a.is_none("subset")) {
        bool split = !a.is_none("validation_split");
        diags_.error(a.loc(split ? "validation_split" : "subset"),
                     "{} without {}: validation_split and subset go together (subset = training or validation)",
                     split ? "validation_split" : "subset", split ? "subset" : "validation_split");
    }
    if (src.name == "npy")  // a file, or one file per model input (x) or output (y), keyed by its name
        for (const char* arg : {"x", "y"}) {
            const Value& v = a.get(arg);
            bool files = v.kind == Value::Kind::String || (v.kind == Value::Kind::Dict && !v.args.empty());
            for (const NamedValue& e : v.args) files &= e.value.kind == Value::Kind::String;
            if (!files)
                diags_.error(v.loc, "npy's {} must be a file name, or a dict of file names keyed by the model's {} names "
                             "(e.g. {{image = \"{}.npy\"}}); got {} {}", arg, arg == std::string("x") ? "input" : "output", arg,
                             kind_name(v.kind), v);
        }
    if (src.name == "csv" && a.text("delimiter").size() != 1)
        diags_.error(a.loc("delimiter"), "delimiter must be one character, got \"{}\"", a.text("delimiter"));
}

Dataset Checker::check_dataset(const ast::Decl& d) {
    Dataset ds;
    ds.name = d.name;
    ds.loc = d.name_loc;
    std::vector<ast::Field> options;
    for (const auto& f : d.fields) {
        bool is_option = false;
        for (const auto& p : dataset_options()) is_option |= p.name == f.name;
        if (is_option) {
            options.push_back(f);
            continue;
        }
        if (ds.member(f.name)) {
            auto& e = diags_.error(f.loc, "dataset '{}' already has a member '{}'", d.name, f.name);
            Diagnostics::note(e, ds.member(f.name)->loc, "first defined here");
            continue;
        }
        int before = diags_.error_count();
        check_member(ds, f);
        if (diags_.error_count() > before) poisoned_.insert(d.name + "." + f.name);
    }
    // Defaults first, so later checks can read every option even when the user's ones are wrong.
    ds.options = *bind_args(dataset_options(), {}, "dataset", d.name_loc, diags_);
    if (auto b = bind_fields(options, dataset_options(), fmt::format("dataset '{}'", d.name), d.name_loc)) {
        ds.options = *b;
        const Value& l = b->get("labels");
        if (l.kind == Value::Kind::Call && (l.s == "one_hot" || l.s == "categorical") && l.args.size() == 1 &&
            l.args[0].name.empty() && l.args[0].value.kind == Value::Kind::Int && l.args[0].value.i >= 2) {
            ds.labels = "one_hot";
            ds.classes = l.args[0].value.i;
        } else if (l.is_name() && (l.s == "int" || l.s == "sparse")) {
            ds.labels = "int";
        } else if (l.is_name() && l.s == "binary") {
            ds.labels = "binary";
        } else if (l.kind != Value::Kind::None) {
            diags_.error(l.loc, "labels must be one_hot(k) with k >= 2 classes, int or binary; got {}", l);
        }
        check_class_names(ds, b->get("class_names"));
    }
    if (d.fields.empty() || (ds.members.empty() && options.size() == d.fields.size()))
        diags_.error(d.name_loc, "dataset '{}' has no members; add one such as train = idx(\"images\", \"labels\")", d.name);
    return ds;
}

std::optional<CallbackSpec> Checker::check_callback(const Value& v) {
    std::optional<BoundArgs> args;
    const CallbackKind* k = resolve_named(callbacks(), v, "callback", args);
    if (!k) return std::nullopt;
    if (k->name == "ModelCheckpoint") {
        const std::string& path = args->text("filepath");
        if (path.size() >= 6 && path.compare(path.size() - 6, 6, ".keras") == 0) {
            diags_.error(args->loc("filepath"), "ModelCheckpoint: .keras archives are not written yet; use .weights.h5");
            return std::nullopt;
        }
    }
    return CallbackSpec{k, *args, v.loc};
}

std::vector<CallbackSpec> Checker::check_callbacks(const std::vector<NamedValue>& calls) {
    std::vector<CallbackSpec> out;
    for (const auto& c : calls)
        if (auto cb = check_callback(c.value)) out.push_back(std::move(*cb));
    return out;
}

const Model* Checker::resolve_model(const std::string& name, SrcLoc loc) {
    const ast::Decl* d = lookup(name);
    if (d && d->kind == ast::Decl::Kind::Model) return prog_.model(name);
    if (d) {
        diags_.error(loc, "'{}' is a {}, not a model", name, ast::decl_kind_name(d->kind));
        return nullptr;
    }
    diags_.error(loc, "unknown model '{}'{}", name, suggestion_suffix(name, names_of(ast::Decl::Kind::Model)));
    return nullptr;
}

std::optional<DataRef> Checker::resolve_data(const Value& v, const char* role) {
    if (v.kind != Value::Kind::Ref || std::count(v.s.begin(), v.s.end(), '.') != 1) {
        if (v.kind == Value::Kind::Ident && lookup(v.s) && lookup(v.s)->kind == ast::Decl::Kind::Dataset) {
            const Dataset* ds = prog_.dataset(v.s);
            std::vector<std::string> names;
            if (ds)
                for (const auto& m : ds->members) names.push_back(v.s + "." + m.name);
            diags_.error(v.loc, "{} must name a member of dataset '{}'{}", role, v.s,
                         names.empty() ? std::string() : fmt::format(" ({})", fmt::join(names, ", ")));
        } else {
            diags_.error(v.loc, "{} must be a dataset member such as mnist.train, got {}", role, v);
        }
        return std::nullopt;
    }
    DataRef r;
    r.dataset = v.s.substr(0, v.s.find('.'));
    r.member = v.s.substr(v.s.find('.') + 1);
    r.loc = v.loc;
    const ast::Decl* d = lookup(r.dataset);
    if (!d || d->kind != ast::Decl::Kind::Dataset) {
        diags_.error(v.loc, "unknown dataset '{}'{}", r.dataset, suggestion_suffix(r.dataset, names_of(ast::Decl::Kind::Dataset)));
        return std::nullopt;
    }
    const Dataset* ds = prog_.dataset(r.dataset);
    if (!ds) return std::nullopt;
    if (!ds->member(r.member)) {
        if (poisoned(r.dataset + "." + r.member)) return std::nullopt;  // the member's own error says why
        std::vector<std::string> names;
        for (const auto& m : ds->members) names.push_back(m.name);
        diags_.error(v.loc, "dataset '{}' has no member '{}'{}", r.dataset, r.member, suggestion_suffix(r.member, names));
        return std::nullopt;
    }
    return r;
}

bool Checker::check_loss_fit(const Model& m, size_t k, const LossKind& loss, const BoundArgs& args, SrcLoc loc) {
    if (!m.shaped) return true;  // the model's own error is already reported
    std::string why = loss.fits(m.output(k), m.output_activation(k), args);
    if (why.empty()) return true;
    if (m.outputs.size() == 1) diags_.error(loc, "loss does not fit model '{}' (output {}): {}", m.name, m.output(), why);
    else diags_.error(loc, "loss does not fit output '{}' of model '{}' (shape {}): {}", m.output_names[k], m.name, m.output(k), why);
    return false;
}

// A field given per output, as Keras' compile takes it: a dict keyed by the model's output names
// ({kind = ..., score = ...}), a list in output order (when `list_in_order`), or one value that
// applies to every output. Outputs a dict leaves out get no value.
std::vector<std::optional<Value>> Checker::per_output(const Model& m, const Value& v, const char* field, bool list_in_order, bool& ok) {
    const size_t n = m.output_names.size();
    std::vector<std::optional<Value>> out(n);
    if (v.kind == Value::Kind::Dict) {
        for (const NamedValue& e : v.args) {
            auto at = std::find(m.output_names.begin(), m.output_names.end(), e.name);
            if (at == m.output_names.end()) {
                diags_.error(e.name_loc, "{}: model '{}' has no output '{}' (its outputs: {}){}", field, m.name, e.name,
                             fmt::join(m.output_names, ", "), suggestion_suffix(e.name, m.output_names));
                ok = false;
                continue;
            }
            auto& slot = out[static_cast<size_t>(at - m.output_names.begin())];
            if (slot) {
                diags_.error(e.name_loc, "{} names output '{}' twice", field, e.name);
                ok = false;
            }
            slot = e.value;
        }
    } else if (list_in_order && (v.kind == Value::Kind::List || v.kind == Value::Kind::Tuple)) {
        if (v.items.size() != n) {
            diags_.error(v.loc, "{} lists {}, but model '{}' has {} ({}); a list gives one per output, in order", field,
                         counted(v.items.size(), "value"), m.name, counted(n, "output"), fmt::join(m.output_names, ", "));
            ok = false;
            return out;
        }
        for (size_t k = 0; k < n; ++k) out[k] = v.items[k];
    } else {
        for (auto& slot : out) slot = v;
    }
    return out;
}

bool Checker::check_metric_list(const Value& mv, std::vector<std::string>& out) {
    std::vector<Value> mlist = mv.kind == Value::Kind::List || mv.kind == Value::Kind::Tuple ? mv.items
                               : mv.kind == Value::Kind::None                                ? std::vector<Value>{}
                                                                                             : std::vector<Value>{mv};
    bool ok = true;
    for (const auto& x : mlist) {
        if (!x.is_name()) {
            diags_.error(x.loc, "metrics must be a list of metric names such as [accuracy], got {} {}", kind_name(x.kind), x);
            ok = false;
        } else if (!find_builtin(metrics(), x.s)) {
            diags_.error(x.loc, "unknown metric '{}'{}", x.s, suggestion_suffix(x.s, builtin_names(metrics())));
            ok = false;
        } else {
            out.push_back(x.s);
        }
    }
    return ok;
}

std::optional<std::vector<OutputTraining>> Checker::check_outputs(const Model& m, const BoundArgs& fields, bool& metrics_known) {
    bool ok = true;
    std::vector<OutputTraining> outs(m.output_names.size());
    for (size_t k = 0; k < outs.size(); ++k) outs[k].output = m.output_names[k];
    auto losses_given = per_output(m, fields.get("loss"), "loss", true, ok);
    const bool keys_known = ok;  // else an output without a loss is most likely the misspelt one
    for (size_t k = 0; k < outs.size(); ++k) {
        if (!losses_given[k] && !keys_known) continue;
        if (!losses_given[k]) {
            diags_.error(fields.loc("loss"), "output '{}' of model '{}' has no loss: give it one in loss = {{{} = ...}}", outs[k].output,
                         m.name, outs[k].output);
            ok = false;
            continue;
        }
        std::optional<BoundArgs> largs;
        outs[k].loss = resolve_named(losses(), *losses_given[k], "loss", largs);
        if (!outs[k].loss) {
            ok = false;
            continue;
        }
        outs[k].loss_args = *largs;
        const bool one_for_all = fields.get("loss").kind != Value::Kind::Dict && fields.get("loss").kind != Value::Kind::List;
        ok &= check_loss_fit(m, k, *outs[k].loss, *largs, one_for_all ? fields.loc("loss") : losses_given[k]->loc);
    }
    if (!fields.is_none("loss_weights")) {
        const Value& wv = fields.get("loss_weights");
        if (wv.kind != Value::Kind::Dict && wv.kind != Value::Kind::List && wv.kind != Value::Kind::Tuple) {
            diags_.error(wv.loc, "loss_weights must be a dict keyed by output, e.g. {{{} = 1.0}}, or a list with one number per output; "
                         "got {} {}", m.output_names.front(), kind_name(wv.kind), wv);
            ok = false;
        } else {
            auto weights = per_output(m, wv, "loss_weights", true, ok);
            for (size_t k = 0; k < outs.size(); ++k) {
                if (!weights[k]) continue;  // Keras' default weight: 1
                if (!weights[k]->is_number()) {
                    diags_.error(weights[k]->loc, "the loss weight of output '{}' must be a number, got {} {}", outs[k].output,
                                 kind_name(weights[k]->kind), *weights[k]);
                    ok = false;
                } else {
                    outs[k].weight = weights[k]->as_double();
                }
            }
        }
    }
    // A plain list of metrics applies to every output; a dict gives each output its own.
    auto metrics_given = per_output(m, fields.get("metrics"), "metrics", false, metrics_known);
    for (size_t k = 0; k < outs.size(); ++k)
        if (metrics_given[k] && !check_metric_list(*metrics_given[k], outs[k].metrics)) metrics_known = false;
    if (!ok) return std::nullopt;  // the metrics' errors are the caller's to count (metrics_known)
    return outs;
}

// The labels against the output as the loss compares them (LossKind::labels_fit); a dataset that
// does not set `labels` gets the loss's own encoding.
void Checker::check_labels(const Model& m, const Dataset& ds, const LossKind& loss, SrcLoc loss_loc, SrcLoc) {
    if (!m.shaped) return;
    LabelUse u{ds.labels.empty() ? loss.labels : ds.labels, ds.classes, ds.name, m.name, m.output()};
    if (std::string why = loss.labels_fit(u); !why.empty()) diags_.error(loss_loc, "{}", why);
    // One name per class the model predicts: k outputs, or two for one sigmoid unit.
    int64_t k = m.output().dims.empty() ? 0 : m.output().dims.back();
    int64_t want = k == 1 ? 2 : k;
    if (!ds.class_names.empty() && static_cast<int64_t>(ds.class_names.size()) != want)
        diags_.error(ds.class_names_loc, "class_names has {} names, but model '{}' predicts {} classes{}", ds.class_names.size(), m.name,
                     want, k == 1 ? " (one sigmoid unit: class 0 and class 1)" : "");
}

// class_names = ["cat", "dog"]: distinct strings, as many as one_hot(k) says when it says.
void Checker::check_class_names(Dataset& ds, const Value& v) {
    if (v.kind == Value::Kind::None) return;
    bool strings = v.kind == Value::Kind::List && !v.items.empty();
    for (const auto& item : v.items) strings &= item.kind == Value::Kind::String;
    if (!strings) {
        diags_.error(v.loc, "class_names must be a list of strings, e.g. [\"cat\", \"dog\"]; got {}", v);
        return;
    }
    for (size_t i = 0; i < v.items.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (v.items[i].s == v.items[j].s) {
                diags_.error(v.items[i].loc, "class_names names '{}' twice", v.items[i].s);
                return;
            }
    if (ds.classes && static_cast<int64_t>(v.items.size()) != ds.classes) {
        diags_.error(v.loc, "class_names has {} names, but labels = one_hot({}) has {} classes", v.items.size(), ds.classes, ds.classes);
        return;
    }
    for (const auto& item : v.items) ds.class_names.push_back(item.s);
    ds.class_names_loc = v.loc;
}

// features(model, data): the model must exist and take the data's samples; the samples it yields
// are the model's outputs.
bool Checker::check_features(const BoundArgs& a) {
    const Value& mv = a.get("model");
    const ast::Decl* d = lookup(mv.s);
    if (!d || d->kind != ast::Decl::Kind::Model) {
        diags_.error(mv.loc, "features(...) needs a model, and '{}' is not one{}", mv.s, suggestion_suffix(mv.s, names_of(ast::Decl::Kind::Model)));
        return false;
    }
    if (const Model* m = prog_.model(mv.s); m && !single_in_out(*m, mv.loc, "extracting features with")) return false;
    const Value& dv = a.get("data");
    if (dv.kind == Value::Kind::Ref) {
        std::string dsname = dv.s.substr(0, dv.s.find('.'));
        const ast::Decl* dd = lookup(dsname);
        if (dd && dd->kind == ast::Decl::Kind::Dataset && !prog_.dataset(dsname)) {
            diags_.error(dv.loc, "dataset '{}' must be declared before features(...) uses it", dsname);
            return false;
        }
    }
    auto ref = resolve_data(dv, "the data of features(...)");
    if (!ref) return false;
    if (const Model* m = prog_.model(mv.s)) check_data_shape(*m, *ref);
    return true;
}

std::optional<Shape> Checker::member_shape(const DatasetMember& mem) {
    if (mem.source->name == "features") {
        const Model* fm = prog_.model(mem.args.text("model"));
        if (fm && fm->shaped) return fm->output();
        return std::nullopt;
    }
    return mem.source->element_shape ? mem.source->element_shape(mem.args) : std::nullopt;
}

void Checker::check_data_shape(const Model& m, const DataRef& ref) {
    const Dataset* ds = prog_.dataset(ref.dataset);
    const DatasetMember* mem = ds ? ds->member(ref.member) : nullptr;
    if (!mem || !m.shaped) return;
    auto shape = member_shape(*mem);
    if (shape && *shape != m.input)
        diags_.error(ref.loc, "{}.{} yields inputs of shape {} but model '{}' expects {}", ref.dataset, ref.member, *shape,
                     m.name, m.input);
    // Token ids run up to max_features - 1; the model's Embedding must have a row for each (Keras
    // raises an error on an id >= input_dim).
    if (mem->source->name != "sequences" || mem->args.is_none("max_features")) return;
    const LayerNode* first = m.layers.empty() ? nullptr : &m.layers.front();
    while (first && first->is_group()) first = first->children.empty() ? nullptr : &first->children.front();
    if (!first || first->type != "Embedding") return;
    int64_t features = mem->args.integer("max_features"), rows = first->args.integer("input_dim");
    if (features > rows) {
        auto& e = diags_.error(ref.loc, "{}.{} has token ids up to {} (max_features = {}) but the Embedding of model '{}' has "
                               "input_dim = {}: ids must be below input_dim", ref.dataset, ref.member, features - 1, features,
                               m.name, rows);
        Diagnostics::note(e, mem->args.loc("max_features"), "max_features is set here");
        Diagnostics::note(e, first->args.loc("input_dim"), "input_dim is set here");
    }
}

// A model with several inputs or outputs reads one array per input and one target per output,
// keyed by their names (Keras' fit(x = {...}, y = {...})): npy(x = {...}, y = {...}). Arrays keyed
// by name may also feed a model with one input and one output.
void Checker::check_arrays(const Model& m, const DataRef& ref) {
    const Dataset* ds = prog_.dataset(ref.dataset);
    const DatasetMember* mem = ds ? ds->member(ref.member) : nullptr;
    if (!mem || !m.shaped) return;
    const bool keyed = mem->source->name == "npy" && mem->args.get("x").kind == Value::Kind::Dict;
    if (!keyed) {
        if (m.inputs.size() > 1 || m.outputs.size() > 1)
            diags_.error(ref.loc, "model '{}' has {} and {}, so its data gives one array per input and per output, "
                         "keyed by name: npy(x = {{{} = \"...\"}}, y = {{{} = \"...\"}}); {}.{} is {}(...)", m.name,
                         counted(m.inputs.size(), "input"), counted(m.outputs.size(), "output"), m.inputs.front().name, m.output_names.front(), ref.dataset, ref.member, mem->source->name);
        return;
    }
    std::vector<std::string> inputs;
    for (const ModelInput& in : m.inputs) inputs.push_back(in.name);
    auto match = [&](const Value& v, const std::vector<std::string>& names, const char* what) {
        if (v.kind != Value::Kind::Dict) {
            diags_.error(v.loc, "npy's x is a dict, so y must be one too, keyed by model '{}''s {} names ({})", m.name, what,
                         fmt::join(names, ", "));
            return;
        }
        for (const NamedValue& e : v.args)
            if (std::find(names.begin(), names.end(), e.name) == names.end())
                diags_.error(e.name_loc, "model '{}' has no {} '{}' (its {}s: {}){}", m.name, what, e.name, what, fmt::join(names, ", "),
                             suggestion_suffix(e.name, names));
        for (const std::string& n : names) {
            bool given = false;
            for (const NamedValue& e : v.args) given |= e.name == n;
            if (!given)
                diags_.error(v.loc, "{}.{} gives no array for {} '{}' of model '{}'", ref.dataset, ref.member, what, n, m.name);
        }
    };
    match(mem->args.get("x"), inputs, "input");
    match(mem->args.get("y"), m.output_names, "output");
}

// features(...) turns a member's samples into one array of a model's outputs: a model with one
// input and one output.
bool Checker::single_in_out(const Model& m, SrcLoc at, const char* doing) {
    if (m.inputs.size() <= 1 && m.outputs.size() <= 1) return true;
    diags_.error(at, "{} a model with several inputs or outputs is not supported yet: model '{}' has {} and {}", doing, m.name,
                 counted(m.inputs.size(), "input"), counted(m.outputs.size(), "output"));
    return false;
}

std::optional<Checker::Statement> Checker::resolve_statement(const ast::Decl& d, const std::vector<ParamSpec>& schema) {
    Statement s;
    s.model = resolve_model(d.name, d.name_loc);
    auto target = eval(d.target, {}, diags_);
    std::optional<DataRef> data;
    if (target) data = resolve_data(*target, "the data after 'on'");
    auto fields = bind_fields(d.fields, schema, ast::decl_kind_name(d.kind), d.loc);
    if (!s.model || !data || !fields) return std::nullopt;
    s.data = *data;
    s.fields = *fields;
    return s;
}

std::optional<TrainSpec> Checker::check_train(const ast::Decl& d) {
    TrainSpec t;
    t.model = d.name;
    t.loc = d.loc;
    auto st = resolve_statement(d, train_fields());
    if (!st) return std::nullopt;
    const Model* m = st->model;
    const DataRef* data = &st->data;
    const BoundArgs* fields = &st->fields;
    trained_models_.insert(m->name);
    t.data = *data;
    t.fields = *fields;
    bool ok = true;

    std::optional<BoundArgs> oargs;
    const OptimizerKind* opt = resolve_named(optimizers(), fields->get("optimizer"), "optimizer", oargs);
    if (opt) t.optimizer = {opt, *oargs};
    ok &= opt != nullptr;
    if (opt) {  // Keras' optimizers refuse more than one way of clipping
        std::vector<std::string> clips;
        for (const char* c : {"clipnorm", "clipvalue", "global_clipnorm"})
            if (!oargs->is_none(c)) clips.push_back(c);
        if (clips.size() > 1) {
            diags_.error(oargs->loc(clips[1]), "only one of clipnorm, clipvalue and global_clipnorm can be set, as in Keras; got {} and {}",
                         clips[0], clips[1]);
            ok = false;
        }
    }

    // What the run reports is known only when the metrics and the validation data checked: without
    // them, a callback's monitor cannot be judged.
    bool reported_known = true;
    const Dataset* ds = prog_.dataset(data->dataset);
    auto outs = check_outputs(*m, *fields, reported_known);
    // One output: its labels are the dataset's, encoded for the loss. Several: each output's
    // targets are arrays of their own (check_arrays).
    const LossKind* loss = outs && outs->size() == 1 ? outs->front().loss : nullptr;
    const bool loss_fits = loss != nullptr;
    if (outs) t.outputs = *outs;
    if (loss && ds) check_labels(*m, *ds, *loss, fields->loc("loss"), data->loc);
    ok &= outs.has_value() && reported_known;

    const Value& val = fields->get("validation");
    if (val.kind != Value::Kind::None) {
        if (auto r = resolve_data(val, "validation")) {
            t.has_validation = true;
            t.validation = *r;
            check_data_shape(*m, *r);
            check_arrays(*m, *r);
            const Dataset* vds = prog_.dataset(r->dataset);
            if (loss_fits && vds && vds != ds) check_labels(*m, *vds, *loss, fields->loc("loss"), r->loc);
        } else {
            ok = false;
            reported_known = false;
        }
    }
    check_data_shape(*m, *data);
    check_arrays(*m, *data);

    // unfreeze = [block5_conv1, ...]: Keras' fine-tuning (set trainable on the top of a base).
    const Value& uf = fields->get("unfreeze");
    if (uf.kind != Value::Kind::None) {
        std::vector<std::string> names;
        std::function<void(const std::vector<LayerNode>&)> collect = [&](const std::vector<LayerNode>& ls) {
            for (const auto& l : ls) {
                if (l.is_group()) collect(l.children);
                else names.push_back(l.name);
            }
        };
        collect(m->layers);
        std::vector<Value> items = uf.kind == Value::Kind::List || uf.kind == Value::Kind::Tuple ? uf.items : std::vector<Value>{uf};
        for (const auto& x : items) {
            if (!x.is_name()) {
                diags_.error(x.loc, "unfreeze lists layer names, got {} {}", kind_name(x.kind), x);
                ok = false;
            } else if (std::find(names.begin(), names.end(), x.s) == names.end()) {
                if (poisoned("model " + m->name)) continue;  // the layer may be the one that failed
                diags_.error(x.loc, "model '{}' has no layer '{}' to unfreeze{}", m->name, x.s, suggestion_suffix(x.s, names));
                ok = false;
            } else {
                t.unfreeze.push_back(x.s);
            }
        }
    }

    t.epochs = fields->integer("epochs");
    if (!fields->is_none("batch_size")) t.batch_size = fields->integer("batch_size");
    else if (ds && !ds->options.is_none("batch_size")) t.batch_size = ds->options.integer("batch_size");
    else if (const DatasetMember* mem = ds ? ds->member(data->member) : nullptr; mem && mem->args.has("batch_size"))
        t.batch_size = mem->args.integer("batch_size");

    // Callbacks: the name of a `callbacks` declaration, or a list of callback calls.
    const Value& cbv = fields->get("callbacks");
    SrcLoc cb_loc = fields->loc("callbacks");
    bool separate = false;
    if (cbv.kind == Value::Kind::Ident) {
        auto it = callback_sets_.find(cbv.s);
        if (it != callback_sets_.end()) {
            t.callbacks = it->second;
            separate = true;
        } else if (find_builtin(callbacks(), cbv.s)) {
            if (auto cb = check_callback(cbv)) t.callbacks.push_back(*cb);
        } else {
            std::vector<std::string> cands = names_of(ast::Decl::Kind::Callbacks);
            for (auto& n : builtin_names(callbacks())) cands.push_back(n);
            diags_.error(cbv.loc, "unknown callbacks '{}'{}", cbv.s, suggestion_suffix(cbv.s, cands));
            ok = false;
        }
    } else if (cbv.kind == Value::Kind::List || cbv.kind == Value::Kind::Tuple) {
        for (const auto& x : cbv.items)
            if (auto cb = check_callback(x)) t.callbacks.push_back(*cb);
    } else if (cbv.kind == Value::Kind::Call) {
        if (auto cb = check_callback(cbv)) t.callbacks.push_back(*cb);
    } else if (cbv.kind != Value::Kind::None) {
        diags_.error(cbv.loc, "callbacks must name a callbacks declaration or list callbacks, got {} {}", kind_name(cbv.kind), cbv);
        ok = false;
    }
    // Every monitored metric must be one this run reports (Keras only warns at run time).
    std::vector<std::string> reported = t.reported();
    for (const auto& cb : t.callbacks)
        if (reported_known && cb.kind->name == "ModelCheckpoint") ok &= check_checkpoint_path(cb, t, reported);
    for (const auto& cb : t.callbacks) {
        if (!cb.args.has("monitor") || !reported_known) continue;
        const std::string& mon = cb.args.text("monitor");
        if (std::find(reported.begin(), reported.end(), mon) != reported.end()) continue;
        std::string hint = mon.rfind("val_", 0) == 0 && !t.has_validation ? " (it has no validation data)" : "";
        auto& e = diags_.error(cb.args.loc("monitor"), "{} monitors '{}', which training of '{}' does not report{}; it reports {}{}",
                               cb.kind->name, mon, t.model, hint, fmt::join(reported, ", "), suggestion_suffix(mon, reported));
        if (separate) Diagnostics::note(e, cb_loc, "callbacks used by this train statement");
        ok = false;
    }
    if (!ok) return std::nullopt;
    return t;
}

// ModelCheckpoint's path may name {epoch} and any metric the run reports, with a printf format
// after a colon ({val_loss:.2f}): the run formats it the same way (runtime/train/Callbacks.cpp).
bool Checker::check_checkpoint_path(const CallbackSpec& cb, const TrainSpec& t, const std::vector<std::string>& reported) {
    const std::string& path = cb.args.text("filepath");
    bool ok = true;
    for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
        size_t close = path.find('}', open);
        if (close == std::string::npos) break;
        std::string field = path.substr(open + 1, close - open - 1);
        field = field.substr(0, field.find(':'));
        if (field == "epoch" || std::find(reported.begin(), reported.end(), field) != reported.end()) continue;
        std::vector<std::string> known = reported;
        known.insert(known.begin(), "epoch");
        diags_.error(cb.args.loc("filepath"), "ModelCheckpoint's path names {{{}}}, which training of '{}' does not report; "
                     "it can name {}{}", field, t.model, fmt::join(known, ", "), suggestion_suffix(field, known));
        ok = false;
    }
    return ok;
}

std::optional<EvaluateSpec> Checker::check_evaluate(const ast::Decl& d) {
    EvaluateSpec e;
    e.model = d.name;
    e.loc = d.loc;
    auto st = resolve_statement(d, evaluate_fields());
    if (!st) return std::nullopt;
    const Model* m = st->model;
    const BoundArgs* fields = &st->fields;
    const DataRef* data = &st->data;
    e.data = *data;
    e.fields = *fields;
    check_data_shape(*m, *data);
    check_arrays(*m, *data);
    if (!fields->is_none("loss")) {
        bool metrics_known = true;
        auto outs = check_outputs(*m, *fields, metrics_known);
        const Dataset* ds = prog_.dataset(data->dataset);
        if (outs && outs->size() == 1 && ds) check_labels(*m, *ds, *outs->front().loss, fields->loc("loss"), data->loc);
        if (outs) e.outputs = *outs;
    } else if (!trained_models_.count(m->name) && !poisoned("train " + m->name)) {
        diags_.error(d.loc, "evaluate needs a loss: model '{}' is not trained in this file, so give loss = ... (and metrics)",
                     m->name);
        return std::nullopt;
    } else {  // evaluated with the loss of the model's last training: these labels must fit it too
        const TrainSpec* last = nullptr;
        for (const TrainSpec& t : prog_.trains)
            if (t.model == m->name) last = &t;
        const Dataset* ds = prog_.dataset(data->dataset);
        if (last && last->outputs.size() == 1 && ds && ds->name != last->data.dataset)
            check_labels(*m, *ds, *last->outputs.front().loss, data->loc, data->loc);
    }
    return e;
}

}  // namespace cnnc
