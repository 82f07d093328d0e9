#include "summary/Summary.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "summary/Table.h"

namespace cnnc {

std::string thousands(int64_t n) {
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

std::string memory_size(double bytes) {
    static const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    for (const char* u : units) {
        if (bytes / 1024 < 1) return fmt::format("{:.2f} {}", bytes, u);
        bytes /= 1024;
    }
    return fmt::format("{:.2f} PB", bytes);
}

std::string flops_text(double f) {
    static const char* units[] = {"", "K", "M", "G", "T", "P", "E"};
    double x = f;
    int u = 0;
    while (x >= 1000 && u < 6) x /= 1000, ++u;
    return u == 0 ? fmt::format("{:.0f}", f) : fmt::format("{:.2f} {}", x, units[u]);
}

std::vector<std::string> input_layer_names(const Model& m) {
    std::vector<std::string> out;
    int unnamed = 0;
    for (const auto& in : m.inputs) {
        if (in.name != "input") {
            out.push_back(in.name);
            continue;
        }
        out.push_back(unnamed == 0 ? "input_layer" : fmt::format("input_layer_{}", unnamed));
        ++unnamed;
    }
    return out;
}

namespace {

// The rows of either summary, and what "Connected to" needs: which row stands for each tensor.
class Rows {
  public:
    Rows(const Model& m, const SummaryOptions& o) : m_(m), o_(o), input_names_(input_layer_names(m)) {
        leaf_row_.resize(m.leaves().size());
        for (const auto& l : m.layers) name_leaves(l, l.name, l.name);
    }

    std::vector<std::vector<Cell>> sequential() {
        collect(m_.layers, 0, false);
        return std::move(rows_);
    }

    // Keras' functional summary: an InputLayer row per model input, then the layers, each with
    // the tensors it reads.
    std::vector<std::vector<Cell>> functional() {
        for (size_t k = 0; k < m_.inputs.size(); ++k) {
            std::vector<Cell> r = {{input_names_[k] + " (InputLayer)"}, {m_.inputs[k].shape.str()}, {"0"}};
            if (o_.flops) r.push_back({"0"});
            r.push_back({"-"});
            rows_.push_back(std::move(r));
        }
        collect(m_.layers, 0, true);
        return std::move(rows_);
    }

  private:
    // Collapsed, a tensor is named after the top-level row that made it (a block's row); expanded,
    // after the leaf layer itself, by its path through the blocks ("basic_1/conv2d"), since names
    // are unique only among siblings.
    void name_leaves(const LayerNode& l, const std::string& top, const std::string& path) {
        if (!l.is_group()) {
            leaf_row_.at(static_cast<size_t>(l.id)) = o_.expand ? path : top;
            return;
        }
        for (const auto& c : l.children) name_leaves(c, top, path + "/" + c.name);
    }

    // "?" for a tensor the model does not have: a file with errors (no input declared) still gets
    // its table, as the fuzzer renders every model.
    std::string tensor_name(TensorId t) const {
        const std::vector<std::string>& rows = is_input(t) ? input_names_ : leaf_row_;
        const size_t k = static_cast<size_t>(is_input(t) ? input_index(t) : t);
        return k < rows.size() ? rows[k] + "[0][0]" : "?";
    }

    static void leaves_of(const LayerNode& l, std::vector<const LayerNode*>& out) {
        if (!l.is_group()) out.push_back(&l);
        for (const auto& c : l.children) leaves_of(c, out);
    }

    // The tensors a row reads, as Keras writes them, one a line with a comma after all but the
    // last (how Keras' ", "-joined list wraps in a narrow column). A layer lists each input, even
    // one read twice; a block, each tensor from outside it once.
    Cell connections(const LayerNode& l) const {
        std::vector<TensorId> ts;
        if (!l.is_group()) {
            ts = l.inputs;
        } else {
            std::vector<const LayerNode*> inside;
            leaves_of(l, inside);
            auto made_inside = [&](TensorId t) {
                return !is_input(t) && std::any_of(inside.begin(), inside.end(), [&](const LayerNode* n) { return n->id == t; });
            };
            for (const LayerNode* n : inside)
                for (TensorId t : n->inputs)
                    if (!made_inside(t) && std::find(ts.begin(), ts.end(), t) == ts.end()) ts.push_back(t);
        }
        if (ts.empty()) return {"-"};
        Cell c;
        for (size_t i = 0; i < ts.size(); ++i) c.push_back(tensor_name(ts[i]) + (i + 1 < ts.size() ? "," : ""));
        return c;
    }

    void collect(const std::vector<LayerNode>& layers, int depth, bool connected) {
        for (const auto& l : layers) {
            std::string indent = depth == 0 ? "" : std::string(static_cast<size_t>(2 * (depth - 1)), ' ') + "└ ";
            std::vector<Cell> r = {{indent + fmt::format("{} ({})", l.name, l.type)}, {l.shaped ? l.out.str() : "?"}, {thousands(l.param_count())}};
            if (o_.flops) r.push_back({flops_text(l.flop_count())});
            if (connected) r.push_back(connections(l));
            rows_.push_back(std::move(r));
            if (o_.expand && l.is_group()) collect(l.children, depth + 1, connected);
        }
    }

    const Model& m_;
    const SummaryOptions& o_;
    std::vector<std::string> input_names_;
    std::vector<std::string> leaf_row_;  // by leaf id: the row that stands for its output
    std::vector<std::vector<Cell>> rows_;
};

}  // namespace

std::string render_summary(const Model& m, const SummaryOptions& o) {
    // Keras 3's text widths: its interior widths less one space each side, from line lengths of 88
    // (sequential) and 108 (functional) shared out as rich shares them.
    std::vector<Column> columns;
    std::vector<std::vector<Cell>> rows;
    Column flops{"FLOPs", 12, true};
    if (m.is_sequential()) {
        columns = {{"Layer (type)", 36, false}, {"Output Shape", 27, false}, {"Param #", 15, true}};
        if (o.flops) columns.push_back(flops);
        rows = Rows(m, o).sequential();
    } else {
        columns = {{"Layer (type)", 29, false}, {"Output Shape", 25, false}, {"Param #", 15, true}};
        if (o.flops) columns.push_back(flops);
        columns.push_back({"Connected to", 26, false});
        rows = Rows(m, o).functional();
    }
    std::string out = fmt::format("Model: \"{}\"\n", m.name) + render_table(columns, rows, o.ascii);
    int64_t total = m.param_count(), trainable = m.trainable_count();
    auto count = [](int64_t n) { return fmt::format("{} ({})", thousands(n), memory_size(4.0 * static_cast<double>(n))); };
    out += fmt::format(" Total params: {}\n", count(total));
    out += fmt::format(" Trainable params: {}\n", count(trainable));
    out += fmt::format(" Non-trainable params: {}\n", count(total - trainable));
    out += fmt::format(" Forward FLOPs per sample: {}\n", m.shaped ? flops_text(m.flop_count()) : "?");
    return out;
}

bool locale_is_utf8() {
    const char* lang = std::getenv("LC_ALL");
    if (!lang || !*lang) lang = std::getenv("LC_CTYPE");
    if (!lang || !*lang) lang = std::getenv("LANG");
    std::string l = lang ? lang : "";
    return l.empty() || l == "C.UTF-8" || l.find("UTF-8") != std::string::npos || l.find("utf8") != std::string::npos ||
           l.find("UTF8") != std::string::npos || l.find("utf-8") != std::string::npos;
}

}  // namespace cnnc
