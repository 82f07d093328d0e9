#include "app/Catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <functional>

#include "builtins/Builtins.h"
#include "diag/Diagnostics.h"
#include "layers/Layer.h"

namespace cnnc::app {

namespace {

struct Entry {
    std::string name, doc;
    const std::vector<ParamSpec>* params;
    std::vector<std::string> aliases;  // other names a file may write: Keras' class names (L1, MSE)
    bool named(const std::string& n) const { return n == name || std::find(aliases.begin(), aliases.end(), n) != aliases.end(); }
};

struct Kind {
    const char* name;
    const char* what;  // "an optimizer"
    std::function<std::vector<Entry>()> entries;
};

template <class T>
std::vector<Entry> entries_of(const std::vector<T>& list) {
    std::vector<Entry> out;
    for (const auto& b : list) out.push_back({b.name, b.doc, &b.params, b.aliases});
    return out;
}

// One line per list: the lists themselves are the checker's, so nothing here names an entry.
const std::vector<Kind>& kinds() {
    static const std::vector<Kind> k = {
        {"layers", "a layer",
         [] {
             std::vector<Entry> out;
             for (const LayerKind* l : all_layers()) out.push_back({l->name, l->doc, &l->params, {}});
             return out;
         }},
        {"activations", "an activation", [] { return entries_of(activations()); }},
        {"initializers", "an initializer", [] { return entries_of(initializers()); }},
        {"regularizers", "a regularizer", [] { return entries_of(regularizers()); }},
        {"optimizers", "an optimizer", [] { return entries_of(optimizers()); }},
        {"losses", "a loss", [] { return entries_of(losses()); }},
        {"metrics", "a metric", [] { return entries_of(metrics()); }},
        {"callbacks", "a callback", [] { return entries_of(callbacks()); }},
        {"sources", "a data source", [] { return entries_of(data_sources()); }},
    };
    return k;
}

// `name(required, optional = default, ...)`, as a call would be written in a .cnn file.
std::string signature(const Entry& e) {
    std::string args;
    for (const auto& p : *e.params) {
        if (!args.empty()) args += ", ";
        args += p.required ? p.name : p.name + " = " + to_string(p.default_value);
    }
    return e.params->empty() ? e.name : e.name + "(" + args + ")";
}

}  // namespace

std::vector<std::string> catalog_kinds() {
    std::vector<std::string> out;
    for (const auto& k : kinds()) out.push_back(k.name);
    return out;
}

std::vector<std::string> catalog_names() {
    std::vector<std::string> out;
    for (const auto& k : kinds())
        for (const auto& e : k.entries()) {
            out.push_back(e.name);
            for (const auto& a : e.aliases) out.push_back(a);
        }
    return out;
}

int print_kind(const std::string& kind) {
    for (const auto& k : kinds()) {
        if (kind != k.name) continue;
        for (const auto& e : k.entries()) {
            fmt::print("{}\n", signature(e));
            std::string also = e.aliases.empty() ? "" : fmt::format("(also written {})", fmt::join(e.aliases, ", "));
            if (!e.doc.empty() || !also.empty()) fmt::print("    {}{}{}\n", e.doc, e.doc.empty() || also.empty() ? "" : " ", also);
        }
        return 0;
    }
    fmt::print(stderr, "cnnc: error: no list '{}'{}; the lists are: {}\n", kind, suggestion_suffix(kind, catalog_kinds()),
               fmt::join(catalog_kinds(), ", "));
    return 2;
}

int print_entry(const std::string& name) {
    bool found = false;
    for (const auto& k : kinds())
        for (const auto& e : k.entries()) {
            if (!e.named(name)) continue;
            if (found) std::fputs("\n", stdout);
            found = true;
            fmt::print("{}  ({}){}\n", e.name, k.what, e.doc.empty() ? "" : "  " + e.doc);
            for (const auto& p : *e.params) {
                std::string def = p.required ? "required" : "default " + to_string(p.default_value);
                fmt::print("    {:<22} {}{}\n", p.name, def, p.doc.empty() ? "" : "  — " + p.doc);
            }
        }
    if (found) return 0;
    fmt::print(stderr, "cnnc: error: '{}' is no layer, activation, initializer, regularizer, optimizer, loss, metric, callback or data "
                       "source{}\n", name, suggestion_suffix(name, catalog_names()));
    return 1;
}

}  // namespace cnnc::app
