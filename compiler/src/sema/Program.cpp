#include "sema/Program.h"

#include "train/Outputs.h"

namespace cnnc {

int64_t LayerNode::param_count() const {
    int64_t n = 0;
    for (const auto& w : weights) n += w.shape.elements();
    for (const auto& c : children) n += c.param_count();
    return n;
}

int64_t LayerNode::trainable_count() const {
    if (!trainable) return 0;
    int64_t n = 0;
    for (const auto& w : weights)
        if (w.trainable) n += w.shape.elements();
    for (const auto& c : children) n += c.trainable_count();
    return n;
}

double LayerNode::flop_count() const {
    double n = flops;
    for (const auto& c : children) n += c.flop_count();
    return n;
}

// The output's activation: that of the layer making the first output, looking through layers
// that keep their input's activation (Dropout, Flatten, random transforms) to the tensor they read.
std::string Model::output_activation(size_t k) const {
    std::vector<const LayerNode*> ls = leaves();
    TensorId t = outputs.empty() ? input_tensor(0) : outputs[k];
    while (!is_input(t) && static_cast<size_t>(t) < ls.size()) {
        const LayerNode& l = *ls[static_cast<size_t>(t)];
        if (!l.kind->augmentation && !l.kind->keeps_activation) {
            if (l.kind->activation_arg.empty()) return "linear";
            const Value& v = l.args.get(l.kind->activation_arg);
            if (v.kind == Value::Kind::None) return "linear";
            return v.s == "silu" ? "swish" : v.s;
        }
        if (l.inputs.empty()) break;
        t = l.inputs.front();
    }
    return "linear";
}

int64_t Model::param_count() const {
    int64_t n = 0;
    for (const auto& l : layers) n += l.param_count();
    return n;
}

int64_t Model::trainable_count() const {
    int64_t n = 0;
    for (const auto& l : layers) n += l.trainable_count();
    return n;
}

double Model::flop_count() const {
    double n = 0;
    for (const auto& l : layers) n += l.flop_count();
    return n;
}

static void collect_leaves(const std::vector<LayerNode>& layers, std::vector<const LayerNode*>& out) {
    for (const auto& l : layers) {
        if (l.is_group())
            collect_leaves(l.children, out);
        else
            out.push_back(&l);
    }
}

std::vector<const LayerNode*> Model::leaves() const {
    std::vector<const LayerNode*> v;
    collect_leaves(layers, v);
    return v;
}

Shape Model::tensor_shape(TensorId t) const {
    // Out of range only in a model with errors (no input declared): an unknown shape.
    const size_t k = static_cast<size_t>(is_input(t) ? input_index(t) : t);
    if (is_input(t)) return k < inputs.size() ? inputs[k].shape : Shape{};
    std::vector<const LayerNode*> ls = leaves();
    return k < ls.size() ? ls[k]->out : Shape{};
}

bool Model::is_sequential() const {
    if (inputs.size() > 1 || outputs.size() > 1) return false;
    std::vector<const LayerNode*> ls = leaves();
    for (size_t i = 0; i < ls.size(); ++i) {
        TensorId before = i == 0 ? input_tensor(0) : static_cast<TensorId>(i - 1);
        if (ls[i]->inputs.size() != 1 || ls[i]->inputs[0] != before) return false;
    }
    return outputs.empty() || outputs[0] == static_cast<TensorId>(ls.size()) - 1;
}

const DatasetMember* Dataset::member(const std::string& n) const {
    for (const auto& m : members)
        if (m.name == n) return &m;
    return nullptr;
}

std::vector<std::string> reported_names(const std::vector<OutputTraining>& outputs) {
    std::vector<std::string> names;
    std::vector<std::vector<std::string>> metrics;
    for (const auto& o : outputs) names.push_back(o.output), metrics.push_back(o.metrics);
    std::vector<std::string> v = {"loss"};
    if (outputs.empty()) return v;  // the model's own error is reported
    for (std::string& c : rt::column_names(names, metrics)) v.push_back(std::move(c));
    return v;
}

std::vector<std::string> TrainSpec::reported() const {
    std::vector<std::string> v = reported_names(outputs);
    if (has_validation) {
        size_t n = v.size();
        for (size_t i = 0; i < n; ++i) v.push_back("val_" + v[i]);
    }
    return v;
}

const Model* Program::model(const std::string& n) const {
    for (const auto& m : models)
        if (m.name == n) return &m;
    return nullptr;
}

const Dataset* Program::dataset(const std::string& n) const {
    for (const auto& d : datasets)
        if (d.name == n) return &d;
    return nullptr;
}

}  // namespace cnnc
