#include "sema/Checker.h"

#include <fmt/format.h>

namespace cnnc {

Program check_program(const std::vector<ast::File>& files, Diagnostics& diags) {
    Checker c(files, diags);
    return c.run();
}

const ast::Decl* Checker::lookup(const std::string& name) const {
    auto it = decls_.find(name);
    return it == decls_.end() ? nullptr : it->second;
}

std::vector<std::string> Checker::names_of(ast::Decl::Kind k) const {
    std::vector<std::string> v;
    for (const auto& [n, d] : decls_)
        if (d->kind == k) v.push_back(n);
    return v;
}

// One namespace for all top-level names across the file and its imports, so `train m on d.x`
// can never be ambiguous.
void Checker::collect() {
    for (const auto& f : files_)
        for (const auto& d : f.decls) {
            if (d.kind == ast::Decl::Kind::Import || d.kind == ast::Decl::Kind::Train || d.kind == ast::Decl::Kind::Evaluate)
                continue;
            if (auto* prev = lookup(d.name)) {
                auto& e = diags_.error(d.name_loc, "'{}' is already defined (as a {})", d.name, ast::decl_kind_name(prev->kind));
                Diagnostics::note(e, prev->name_loc, "first defined here");
                continue;
            }
            if ((d.kind == ast::Decl::Kind::Block || d.kind == ast::Decl::Kind::Augmentation) && find_layer(d.name)) {
                diags_.error(d.name_loc, "{} '{}' has the name of a built-in layer; choose another name",
                             ast::decl_kind_name(d.kind), d.name);
                continue;
            }
            if (d.name == "input") {
                diags_.error(d.name_loc, "'input' is reserved for a model's input(...) statement");
                continue;
            }
            decls_[d.name] = &d;
        }
}

std::vector<CallbackSpec> Checker::check_callbacks_decl(const ast::Decl& d) {
    std::vector<NamedValue> calls;
    for (const auto& s : d.body) {
        if (s.kind != ast::Stmt::Kind::Call || !s.as.empty()) {
            diags_.error(s.loc, "a callbacks declaration lists callbacks; '{}' is not allowed here", s.as.empty() ? s.name : "as");
            continue;
        }
        ast::Expr e;
        e.kind = ast::Expr::Kind::Call;
        e.text = s.name;
        e.loc = s.loc;
        e.args = s.args;
        if (auto v = eval(e, {}, diags_)) calls.push_back({"", s.loc, *v});
    }
    return check_callbacks(calls);
}

Program Checker::run() {
    collect();
    // Order matters only for what later checks can see: models and datasets first, then the
    // statements that refer to them.
    auto poison_on_error = [&](const std::string& key, auto&& check) {
        int before = diags_.error_count();
        check();
        if (diags_.error_count() > before) poisoned_.insert(key);
    };
    for (const auto& f : files_)
        for (const auto& d : f.decls)
            if (lookup(d.name) == &d && d.kind == ast::Decl::Kind::Model)
                poison_on_error("model " + d.name, [&] { prog_.models.push_back(check_model(d)); });
    for (const auto& f : files_)  // after the models: features(model, ...) members refer to them
        for (const auto& d : f.decls)
            if (lookup(d.name) == &d && d.kind == ast::Decl::Kind::Dataset)
                poison_on_error("dataset " + d.name, [&] { prog_.datasets.push_back(check_dataset(d)); });
    for (const auto& f : files_)
        for (const auto& d : f.decls)
            if (d.kind == ast::Decl::Kind::Callbacks && lookup(d.name) == &d)
                poison_on_error("callbacks " + d.name, [&] { callback_sets_[d.name] = check_callbacks_decl(d); });
    for (const auto& f : files_)
        for (const auto& d : f.decls) {
            if (d.kind == ast::Decl::Kind::Train)
                poison_on_error("train " + d.name, [&] {
                    if (auto t = check_train(d)) prog_.trains.push_back(std::move(*t));
                });
        }
    for (const auto& f : files_)
        for (const auto& d : f.decls)
            if (d.kind == ast::Decl::Kind::Evaluate)
                if (auto e = check_evaluate(d)) prog_.evaluates.push_back(std::move(*e));
    for (const auto& [n, d] : decls_)
        if ((d->kind == ast::Decl::Kind::Block || d->kind == ast::Decl::Kind::Augmentation) && !used_groups_.count(n))
            lint_unused(*d);
    return std::move(prog_);
}

}  // namespace cnnc
