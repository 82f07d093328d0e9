#include "net/Network.h"

#include <algorithm>
#include <stdexcept>

namespace cnnc::rt {

static Dims with_batch(int64_t n, const Dims& d) {
    Dims s = {n};
    s.insert(s.end(), d.begin(), d.end());
    return s;
}

static bool any_trainable(const Op& op) {
    for (const auto& p : op.params)
        if (p.trainable) return true;
    return false;
}

// dst += src: where a tensor fans out, each reader's dL/dx after the first arrives in a scratch
// buffer and is added here (ops overwrite their dx; see docs/ENGINE.md for the cost).
static void add_into(float* __restrict dst, const float* __restrict src, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

int Network::add_input(Dims shape) {
    input_shapes_.push_back(std::move(shape));
    return input(static_cast<int>(input_shapes_.size()) - 1);
}

int Network::add(std::string name, std::unique_ptr<Op> op, Dims out_shape) {
    int before = stages_.empty() ? input(0) : static_cast<int>(stages_.size()) - 1;
    return add(std::move(name), std::move(op), std::move(out_shape), {before});
}

int Network::add(std::string name, std::unique_ptr<Op> op, Dims out_shape, std::vector<int> inputs) {
    const int id = static_cast<int>(stages_.size());
    if (inputs.empty() || (op->is_view() && inputs.size() != 1)) throw std::logic_error("internal: stage " + name + " reads no tensor, or a view several");
    for (int t : inputs)
        if (t >= id || -1 - t >= static_cast<int>(input_shapes_.size()))
            throw std::logic_error("internal: stage " + name + " reads tensor " + std::to_string(t) + ", not made before it");
    stages_.push_back({std::move(name), std::move(op), std::move(out_shape), std::move(inputs)});
    if (!outputs_set_) outputs_ = {id};
    return id;
}

void Network::set_outputs(std::vector<int> outputs) {
    for (int t : outputs)
        if (t >= static_cast<int>(stages_.size()) || -1 - t >= static_cast<int>(input_shapes_.size()))
            throw std::logic_error("internal: output " + std::to_string(t) + " is no tensor of the network");
    outputs_ = std::move(outputs);
    outputs_set_ = true;
}

// In order: each stage's storage root and whether a trainable param lies upstream; then, in
// reverse (the order backward runs), which gradients exist, who writes them first (directly) and
// who adds into them (through scratch); last, each buffer's lifetime.
Network::Schedule Network::schedule(bool training) const {
    const int S = static_cast<int>(stages_.size()), end = 2 * S;
    const std::vector<int>& outs = outputs_;
    Schedule p;
    p.root.assign(S, 0), p.act.assign(S, -1), p.grad.assign(S, -1), p.external.assign(S, -1);
    p.runs.assign(S, false), p.needs_dx.assign(S, false), p.slots.resize(S), p.out_grad.assign(outs.size(), 0);
    auto root_of = [&](int t) { return t < 0 ? t : p.root[t]; };
    // The pooling fusion (Op::tiled_max_pooling), first: the pooled stage's output becomes its
    // producer's. Only where the pooling is the one reader of a tensor that is no output, made by
    // a stage's own kernel (not a view, nor absorbed).
    p.pools.assign(S, -1);
    std::vector<bool> pooled(S, false);  // a pooling stage whose work its producer does
    std::vector<int> readers(S, 0);
    for (const Stage& st : stages_)
        for (int t : st.inputs)
            if (t >= 0) ++readers[t];
    for (int t : outs)
        if (t >= 0) readers[t] += S;  // never fused away
    for (int k = 0; k < S && pool_fusion_; ++k) {
        const Stage& st = stages_[k];
        const int r = st.inputs[0];
        if (st.inputs.size() != 1 || r < 0 || readers[r] != 1 || passes_through(static_cast<size_t>(r), training)) continue;
        const TiledMaxPool w = st.op->tiled_max_pooling();
        if (!w || !stages_[r].op->accepts_output_pooling(w)) continue;
        p.pools[r] = k;
        pooled[k] = true;
    }
    std::vector<bool> up(S, false);  // a trainable param at or upstream of the stage
    auto upstream = [&](int t) { return root_of(t) >= 0 && up[root_of(t)]; };
    for (int k = 0; k < S; ++k) {
        const Stage& st = stages_[k];
        p.root[k] = passes_through(static_cast<size_t>(k), training) || pooled[k] ? root_of(st.inputs[0]) : k;
        for (int t : st.inputs) p.needs_dx[k] = p.needs_dx[k] || upstream(t);
        up[k] = p.needs_dx[k] || any_trainable(*st.op);
    }
    std::vector<int> out_count(S, 0), writes(S, 0), first_write(S, end);
    for (int t : outs)
        if (upstream(t)) ++out_count[root_of(t)], first_write[root_of(t)] = S;
    for (int k = S - 1; k >= 0 && training; --k) {  // inference keeps the activations alone
        const Stage& st = stages_[k];
        if (passes_through(p, static_cast<size_t>(k))) continue;
        if (!up[k] || out_count[k] + writes[k] == 0) continue;  // no gradient reaches it, or none is wanted
        p.runs[k] = true;
        if (out_count[k] == 1 && writes[k] == 0) {
            p.external[k] = static_cast<int>(std::find_if(outs.begin(), outs.end(), [&](int t) { return root_of(t) == k; }) - outs.begin());
        } else {
            p.grad[k] = static_cast<int>(p.buffers.size());
            p.buffers.push_back({product(out_shape(p, static_cast<size_t>(k))), first_write[k], 2 * S - 1 - k});
        }
        p.slots[k].resize(st.inputs.size());
        for (size_t i = 0; i < st.inputs.size(); ++i) {
            if (!upstream(st.inputs[i])) continue;
            const int r = root_of(st.inputs[i]), step = 2 * S - 1 - k;
            Slot& s = p.slots[k][i];
            if (out_count[r] + writes[r]++ == 0) {
                s.kind = Slot::Direct;
                first_write[r] = step;
            } else {
                s.kind = Slot::Scratch;
                s.buffer = static_cast<int>(p.buffers.size());
                p.buffers.push_back({product(out_shape(p, static_cast<size_t>(r))), step, step});
            }
        }
    }
    // Pairs for the backward fusion (Op::output_activation): a stage whose output's gradient is
    // the dL/dx of one reader alone, written directly (no other reader adds to it, it is no
    // output), and a reader of that one tensor that can apply the stage's activation derivative.
    p.input_act.assign(S, ""), p.preactivated.assign(S, false);
    for (int k = 0; k < S && training; ++k) {
        const Stage& st = stages_[k];
        if (!p.runs[k] || st.inputs.size() != 1 || p.slots[k][0].kind != Slot::Direct) continue;
        const int r = st.inputs[0];
        if (r < 0 || root_of(r) != r || !p.runs[r] || writes[r] != 1 || out_count[r] != 0) continue;
        const std::string act = stages_[r].op->output_activation();
        if (act.empty() || !st.op->accepts_input_activation(act)) continue;
        p.input_act[k] = act;
        p.preactivated[r] = true;
    }
    for (const PlannedBuffer& b : p.buffers) p.gradient_floats += b.size;
    for (size_t j = 0; j < outs.size(); ++j) {
        const int r = root_of(outs[j]);
        if (r < 0 || p.grad[r] < 0) continue;
        p.out_grad[j] = std::find_if(outs.begin(), outs.begin() + static_cast<long>(j), [&](int t) { return root_of(t) == r; }) ==
                                outs.begin() + static_cast<long>(j)
                            ? 1
                            : 2;
    }
    // An activation lives from its stage's forward to its last reader's forward; in training, to
    // the last backward that reads it as x or y (stage k's is at step 2S-1-k, so the last is its
    // own). Outputs live to the end: the caller reads them after forward.
    std::vector<int> last(S);
    for (int k = 0; k < S; ++k) {
        const int used = p.runs[k] ? 2 * S - 1 - k : k;
        last[k] = used;
        if (passes_through(p, static_cast<size_t>(k))) continue;
        for (int t : stages_[k].inputs)
            if (root_of(t) >= 0) last[root_of(t)] = std::max(last[root_of(t)], used);
    }
    for (int t : outs)
        if (root_of(t) >= 0) last[root_of(t)] = end;
    for (int k = 0; k < S; ++k) {
        if (passes_through(p, static_cast<size_t>(k))) continue;
        const int64_t floats = product(out_shape(p, static_cast<size_t>(k)));
        p.act[k] = static_cast<int>(p.buffers.size());
        p.buffers.push_back({floats, k, last[k]});
        p.activation_floats += floats;
    }
    return p;
}

void Network::prepare(int64_t max_batch, bool training) {
    max_batch_ = max_batch;
    training_ = training;
    plan_ = schedule(training);
    // The plan in floats for the largest batch, each buffer on a 64-byte boundary (16 floats):
    // whole cache lines and aligned vectors for the kernels, as Tensor's own allocations.
    std::vector<PlannedBuffer> sized = plan_.buffers;
    for (PlannedBuffer& b : sized) b.size = (b.size * max_batch + 15) / 16 * 16;
    MemoryPlan m = plan_memory(sized, 16);
    offsets_ = std::move(m.offsets);
    arena_.resize({m.peak});
    // A stage that passes through (a view, an absorbed or a pooling done before it) runs nothing:
    // its kernels are not made.
    for (size_t i = 0; i < stages_.size(); ++i) {
        if (passes_through(plan_, i)) continue;
        Op& op = *stages_[i].op;
        const int pool = plan_.pools[i];
        op.set_output_pooling(pool >= 0 ? stages_[static_cast<size_t>(pool)].op->tiled_max_pooling() : TiledMaxPool{});
        op.prepare_forward();
    }
    if (training)
        for (size_t i = 0; i < stages_.size(); ++i) {
            if (passes_through(plan_, i)) continue;
            Op& op = *stages_[i].op;
            op.set_input_activation(plan_.input_act[i]);
            op.set_preactivation_gradient(plan_.preactivated[i]);
            op.prepare_backward(plan_.needs_dx[i]);
        }
    in_views_.resize(stages_.size());
    out_views_.resize(stages_.size());
}

Network::Memory Network::memory(bool training) const {
    Schedule p = schedule(training);
    std::vector<PlannedBuffer> bytes = p.buffers;
    for (PlannedBuffer& b : bytes) b.size *= static_cast<int64_t>(sizeof(float));
    Memory m;
    m.activations = p.activation_floats * static_cast<int64_t>(sizeof(float));
    m.gradients = p.gradient_floats * static_cast<int64_t>(sizeof(float));
    m.planned = plan_memory(bytes).peak;
    return m;
}

View Network::tensor_view(int t, const std::vector<View>& xs) const { return t < 0 ? xs[static_cast<size_t>(-1 - t)] : out_views_[static_cast<size_t>(t)]; }

View Network::forward(const View& x, const StepInfo& s) { return forward_all({x}, s).at(0); }

std::vector<View> Network::forward_all(const std::vector<View>& xs, const StepInfo& s) {
    if (xs.size() != input_shapes_.size()) throw std::logic_error("internal: the network takes " + std::to_string(input_shapes_.size()) + " inputs");
    for (const View& x : xs)
        if (x.shape.empty() || x.shape[0] > max_batch_ || x.shape[0] != xs[0].shape[0]) throw std::logic_error("internal: batch larger than prepared");
    const int64_t n = batch_ = xs[0].shape[0];
    StepInfo step = s;
    step.folded = !training_;
    for (size_t k = 0; k < stages_.size(); ++k) {
        Stage& st = stages_[k];
        std::vector<View>& ins = in_views_[k];
        ins.resize(st.inputs.size());
        for (size_t i = 0; i < st.inputs.size(); ++i) ins[i] = tensor_view(st.inputs[i], xs);
        if (passes_through(plan_, k)) {
            if (s.training && !training_ && st.op->absorbed())
                throw std::logic_error("internal: a training forward through a folded layer, planned for inference");
            out_views_[k] = ins[0].reshaped(with_batch(n, st.out_shape));
            continue;
        }
        out_views_[k] = View{arena_.data() + offsets_[static_cast<size_t>(plan_.act[k])], with_batch(n, out_shape(plan_, k))};
        st.op->forward_all(ins, out_views_[k], step);
    }
    std::vector<View> out;
    for (int t : outputs_) out.push_back(tensor_view(t, xs));
    return out;
}

void Network::backward(const View& d_out, bool d_out_is_logits, const StepInfo& s) { backward_all({d_out}, {d_out_is_logits}, s); }

void Network::backward_all(const std::vector<View>& d_outs, const std::vector<bool>& logits, const StepInfo& s,
                           const GradientsDone& done) {
    if (d_outs.size() != outputs_.size() || logits.size() != outputs_.size())
        throw std::logic_error("internal: the network has " + std::to_string(outputs_.size()) + " outputs");
    auto buffer = [&](int b) { return arena_.data() + offsets_[static_cast<size_t>(b)]; };
    for (size_t j = 0; j < outputs_.size(); ++j) {
        if (plan_.out_grad[j] == 0) continue;
        float* g = buffer(plan_.grad[static_cast<size_t>(plan_.root[static_cast<size_t>(outputs_[j])])]);
        if (plan_.out_grad[j] == 1)
            std::copy(d_outs[j].data, d_outs[j].data + d_outs[j].size(), g);
        else
            add_into(g, d_outs[j].data, d_outs[j].size());
    }
    const int64_t n = batch_;
    for (size_t k = stages_.size(); k-- > 0;) {
        if (!plan_.runs[k]) continue;
        Stage& st = stages_[k];
        const int ext = plan_.external[k];
        View dy = ext >= 0 ? d_outs[static_cast<size_t>(ext)].reshaped(with_batch(n, out_shape(plan_, k)))
                           : View{buffer(plan_.grad[k]), with_batch(n, out_shape(plan_, k))};
        const std::vector<View>& xs = in_views_[k];
        const std::vector<Slot>& slots = plan_.slots[k];
        dx_views_.resize(xs.size());
        dx_ptrs_.assign(xs.size(), nullptr);
        for (size_t i = 0; i < xs.size(); ++i) {
            if (slots[i].kind == Slot::None) continue;
            const int b = slots[i].kind == Slot::Direct ? plan_.grad[static_cast<size_t>(plan_.root[static_cast<size_t>(st.inputs[i])])] : slots[i].buffer;
            dx_views_[i] = View{buffer(b), xs[i].shape};
            dx_ptrs_[i] = &dx_views_[i];
        }
        const bool dz = plan_.preactivated[k] || (ext >= 0 && logits[static_cast<size_t>(ext)]);
        st.op->backward_all(xs, out_views_[k], dy, dx_ptrs_, dz, s);
        if (done && !st.op->params.empty()) done(st.op->params);
        for (size_t i = 0; i < xs.size(); ++i)
            if (slots[i].kind == Slot::Scratch)
                add_into(buffer(plan_.grad[static_cast<size_t>(plan_.root[static_cast<size_t>(st.inputs[i])])]), dx_views_[i].data, xs[i].size());
    }
}

bool Network::output_owns_activation(size_t k) const {
    const std::vector<int>& outs = outputs_;
    if (k >= outs.size() || outs[k] < 0 || !stages_[static_cast<size_t>(outs[k])].op->owns_activation()) return false;
    // Its gradient must be d_out alone: no stage reads it, and it is no other output.
    for (const Stage& st : stages_)
        if (std::find(st.inputs.begin(), st.inputs.end(), outs[k]) != st.inputs.end()) return false;
    return std::count(outs.begin(), outs.end(), outs[k]) == 1;
}

std::vector<Param*> Network::params() {
    std::vector<Param*> v;
    for (auto& st : stages_)
        for (auto& p : st.op->params) v.push_back(&p);
    return v;
}

}  // namespace cnnc::rt
