#include "net/Network.h"

#include <stdexcept>

namespace cnnc::rt {

static Dims with_batch(int64_t n, const Dims& d) {
    Dims s = {n};
    s.insert(s.end(), d.begin(), d.end());
    return s;
}

void Network::add(std::string name, std::unique_ptr<Op> op, Dims out_shape) {
    stages_.push_back({std::move(name), std::move(op), std::move(out_shape)});
}

void Network::prepare(int64_t max_batch, bool training) {
    max_batch_ = max_batch;
    acts_.resize(stages_.size());
    grads_.resize(stages_.size());
    needs_dx_.assign(stages_.size(), false);
    // A stage needs dL/dx only if some trainable weight lies before it: the first convolution of
    // a model (or the first trainable layer after a frozen base) skips that work entirely.
    bool trainable_before = false;
    for (size_t i = 0; i < stages_.size(); ++i) {
        needs_dx_[i] = trainable_before;
        for (const auto& p : stages_[i].op->params) trainable_before |= p.trainable;
    }
    for (size_t i = 0; i < stages_.size(); ++i) {
        if (stages_[i].op->is_view()) continue;
        acts_[i].resize(with_batch(max_batch, stages_[i].out_shape));
        if (training) grads_[i].resize(with_batch(max_batch, stages_[i].out_shape));  // inference needs none
    }
    if (training)
        for (size_t i = 0; i < stages_.size(); ++i) stages_[i].op->prepare_backward(needs_dx_[i]);
    in_views_.resize(stages_.size());
    out_views_.resize(stages_.size());
}

View Network::forward(const View& x, const StepInfo& s) {
    if (x.shape.empty() || x.shape[0] > max_batch_) throw std::logic_error("internal: batch larger than prepared");
    int64_t n = x.shape[0];
    View cur = x;
    for (size_t i = 0; i < stages_.size(); ++i) {
        Stage& st = stages_[i];
        in_views_[i] = cur;
        View out = st.op->is_view() ? cur.reshaped(with_batch(n, st.out_shape))
                                    : View{acts_[i].data(), with_batch(n, st.out_shape)};
        if (!st.op->is_view()) st.op->forward(cur, out, s);
        out_views_[i] = out;
        cur = out;
    }
    return cur;
}

void Network::backward(const View& d_out, bool d_out_is_logits, const StepInfo& s) {
    View dy = d_out;
    for (size_t k = stages_.size(); k-- > 0;) {
        Stage& st = stages_[k];
        bool need_dx = needs_dx_[k];
        bool has_trainable = false;
        for (const auto& p : st.op->params) has_trainable |= p.trainable;
        if (!need_dx && !has_trainable) break;  // nothing left to learn below this point
        const View& x = in_views_[k];
        if (st.op->is_view()) {
            dy = dy.reshaped(x.shape);
            continue;
        }
        // dL/dx goes into the previous stage's gradient buffer (or is not computed at all).
        View dx;
        if (need_dx) {
            size_t prev = k;
            while (prev > 0 && stages_[prev - 1].op->is_view()) --prev;
            dx = View{grads_[prev - 1].data(), x.shape};
        }
        st.op->backward(x, out_views_[k], dy, need_dx ? &dx : nullptr, d_out_is_logits && k + 1 == stages_.size(), s);
        dy = dx;
    }
}

std::vector<Param*> Network::params() {
    std::vector<Param*> v;
    for (auto& st : stages_)
        for (auto& p : st.op->params) v.push_back(&p);
    return v;
}

}  // namespace cnnc::rt
