#include "sema/ProgramDump.h"

#include <fmt/format.h>

namespace cnnc {

namespace {

class ProgramPrinter {
  public:
    std::string out;

    // A graph's model also lists its inputs and outputs, and each leaf the tensors it reads (by
    // the path of the layer that makes them); a plain stack prints as it always has.
    void model(const Model& m) {
        line(0, fmt::format("model {}: input {}, output {}, {} params ({} trainable), {:.0f} FLOPs per sample", m.name, m.input.str(),
                            m.output().str(), m.param_count(), m.trainable_count(), m.flop_count()));
        inputs_.clear();
        leaves_.clear();
        if (!m.is_sequential()) {
            std::vector<std::string> ins, outs;
            for (const auto& in : m.inputs) {
                inputs_.push_back(in.name);
                ins.push_back(in.name + " " + in.shape.str());
            }
            collect_paths(m.layers, "");
            for (TensorId t : m.outputs) outs.push_back(tensor(t));
            line(1, fmt::format("inputs {}", fmt::join(ins, ", ")));
            line(1, fmt::format("outputs {}", fmt::join(outs, ", ")));
        }
        for (const auto& l : m.layers) layer(1, l);
    }

    void dataset(const Dataset& d) {
        line(0, "dataset " + d.name + (d.labels.empty() ? "" : ": labels " + d.labels) +
                    (d.classes ? fmt::format(", {} classes", d.classes) : ""));
        args(1, d.options);
        for (const auto& m : d.members) {
            line(1, fmt::format("member {} = {}", m.name, m.source->name));
            args(2, m.args);
        }
    }

    void train(const TrainSpec& t) {
        line(0, fmt::format("train {} on {}: {} epochs, batch {}, reports {}", t.model, ref(t.data), t.epochs, t.batch_size,
                            fmt::join(t.reported(), ", ")));
        args(1, t.fields);
        if (t.has_validation) line(1, "validation " + ref(t.validation));
        call(1, "optimizer", t.optimizer.kind->name, t.optimizer.args);
        for (const OutputTraining& o : t.outputs) {
            if (t.outputs.size() > 1) line(1, fmt::format("output {}: weight {}, metrics [{}]", o.output, o.weight, fmt::join(o.metrics, ", ")));
            call(1, "loss", o.loss->name, o.loss_args);
        }
        for (const auto& c : t.callbacks) call(1, "callback", c.kind->name, c.args);
        for (const auto& u : t.unfreeze) line(1, "unfreeze " + u);
    }

    void evaluate(const EvaluateSpec& e) {
        line(0, fmt::format("evaluate {} on {}", e.model, ref(e.data)));
        args(1, e.fields);
    }

  private:
    void line(int depth, const std::string& text) { out += fmt::format("{:{}}{}\n", "", 2 * depth, text); }

    static std::string ref(const DataRef& r) { return r.dataset + "." + r.member; }

    // Every bound argument, in name order; those the file does not give are marked as defaults.
    void args(int depth, const BoundArgs& a) {
        for (const auto& [name, v] : a.all()) line(depth, name + " = " + to_string(v) + (a.given(name) ? "" : "  # default"));
    }

    void call(int depth, const std::string& what, const std::string& name, const BoundArgs& a) {
        line(depth, what + " " + name);
        args(depth + 1, a);
    }

    // Every leaf's path, by id ("basic_1/conv2d"): names are unique only among siblings.
    void collect_paths(const std::vector<LayerNode>& layers, const std::string& prefix) {
        for (const auto& l : layers) {
            if (l.is_group())
                collect_paths(l.children, prefix + l.name + "/");
            else
                leaves_.push_back(prefix + l.name);
        }
    }

    const std::string& tensor(TensorId t) const {
        return is_input(t) ? inputs_.at(static_cast<size_t>(input_index(t))) : leaves_.at(static_cast<size_t>(t));
    }

    void layer(int depth, const LayerNode& l) {
        std::string reads;
        if (!l.is_group() && !leaves_.empty()) {
            std::vector<std::string> ins;
            for (TensorId t : l.inputs) ins.push_back(tensor(t));
            reads = fmt::format(" <- {}", fmt::join(ins, ", "));
        }
        std::string head = fmt::format("{}: {}{}{} -> {}, {} params", l.name, l.type, l.is_group() ? " (group)" : "", reads,
                                       l.out.str(), l.param_count());
        if (!l.trainable) head += ", frozen";
        if (!l.is_group()) head += fmt::format(", {:.0f} FLOPs", l.flops);
        line(depth, head);
        for (const auto& w : l.weights) line(depth + 1, fmt::format("weight {} {} {}", w.name, w.shape.str(false), w.initializer));
        args(depth + 1, l.args);
        for (const auto& c : l.children) layer(depth + 1, c);
    }

    std::vector<std::string> inputs_, leaves_;  // a graph's tensor names (empty for a plain stack)
};

}  // namespace

std::string dump_program(const Program& p) {
    ProgramPrinter pr;
    for (const auto& m : p.models) pr.model(m);
    for (const auto& d : p.datasets) pr.dataset(d);
    for (const auto& t : p.trains) pr.train(t);
    for (const auto& e : p.evaluates) pr.evaluate(e);
    return pr.out;
}

}  // namespace cnnc
