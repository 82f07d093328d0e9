#include "summary/Graph.h"

#include <fmt/format.h>

#include <algorithm>

#include "summary/Summary.h"

namespace cnnc {

namespace {

// Text inside an HTML-like label or a quoted ID: the characters DOT or its HTML would read.
std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else if (c == '"') out += "&quot;";
        else out += c;
    }
    return out;
}

std::string node_id(TensorId t) { return is_input(t) ? fmt::format("input_{}", input_index(t)) : fmt::format("layer_{}", t); }

// Keras' node: a black title row with the name in bold and the type, then the facts below it.
std::string node(const std::string& indent, TensorId t, const std::string& name, const std::string& type, const std::vector<std::string>& facts) {
    std::string cells;
    for (const auto& f : facts) cells += "<td>" + f + "</td>";
    return fmt::format("{}{} [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"6\">"
                       "<tr><td colspan=\"{}\" bgcolor=\"black\"><font color=\"white\"><b>{}</b> ({})</font></td></tr><tr>{}</tr></table>>];\n",
                       indent, node_id(t), facts.size(), escape(name), escape(type), cells);
}

std::string shape_fact(const std::string& shape) { return fmt::format("Output shape: <b>{}</b>", escape(shape)); }

void layers(const std::vector<LayerNode>& ls, const std::string& indent, int& clusters, std::string& out) {
    for (const auto& l : ls) {
        if (!l.is_group()) {
            out += node(indent, l.id, l.name, l.type,
                        {shape_fact(l.shaped ? l.out.str() : "?"),
                         fmt::format("Params: <b>{}</b>", thousands(l.param_count()))});
            continue;
        }
        out += fmt::format("{}subgraph cluster_{} {{\n", indent, clusters++);
        out += fmt::format("{}  label=<<b>{}</b> ({})>; style=dashed; labeljust=l;\n", indent, escape(l.name), escape(l.type));
        layers(l.children, indent + "  ", clusters, out);
        out += indent + "}\n";
    }
}

}  // namespace

std::string model_dot(const Model& m) {
    std::string out = fmt::format("digraph \"{}\" {{\n", escape(m.name));
    out += "  graph [rankdir=TB, fontname=\"Helvetica\"];\n";
    out += "  node [shape=plaintext, fontname=\"Helvetica\"];\n";
    out += "  edge [penwidth=2];\n";
    std::vector<std::string> names = input_layer_names(m);
    for (size_t k = 0; k < m.inputs.size(); ++k)
        out += node("  ", input_tensor(static_cast<int>(k)), names[k], "InputLayer",
                    {shape_fact(m.inputs[k].shape.str())});
    int clusters = 0;
    layers(m.layers, "  ", clusters, out);
    // One edge per tensor a layer reads, however many times it reads it (Add(x, x)), as Keras draws.
    for (const LayerNode* l : m.leaves()) {
        std::vector<TensorId> seen;
        for (TensorId t : l->inputs) {
            if (std::find(seen.begin(), seen.end(), t) != seen.end()) continue;
            seen.push_back(t);
            out += fmt::format("  {} -> {};\n", node_id(t), node_id(l->id));
        }
    }
    return out + "}\n";
}

}  // namespace cnnc
