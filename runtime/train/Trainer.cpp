#include "train/Trainer.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <cmath>
#include <cstring>

#include "Error.h"
#include "io/StateFile.h"
#include "train/Random.h"

namespace cnnc::rt {

namespace {
double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

Dims batch_shape(int64_t n, const Tensor& t) {
    Dims d = t.shape();
    d[0] = n;
    return d;
}
}  // namespace

void Trainer::gather(const Samples& s, const std::vector<int64_t>& order, int64_t begin, int64_t n) {
    int64_t xr = s.x.size() / s.size(), yr = s.y.size() / s.size();
    bx_.resize(batch_shape(n, s.x));
    by_.resize(batch_shape(n, s.y));
    for (int64_t i = 0; i < n; ++i) {
        int64_t src = order.empty() ? begin + i : order[static_cast<size_t>(begin + i)];
        std::memcpy(bx_.data() + i * xr, s.x.data() + src * xr, static_cast<size_t>(xr) * sizeof(float));
        std::memcpy(by_.data() + i * yr, s.y.data() + src * yr, static_cast<size_t>(yr) * sizeof(float));
    }
}

// Keras adds the regularizer penalties of the trainable weights (Layer._get_regularization_losses)
// to the loss it reports and differentiates.
double Trainer::regularization() const {
    double r = 0;
    for (Param* p : const_cast<Network&>(net_).params()) {
        if (!p->trainable || (p->l1 == 0 && p->l2 == 0)) continue;
        for (int64_t i = 0; i < p->value.size(); ++i) {
            double w = p->value[i];
            r += p->l1 * std::fabs(w) + p->l2 * w * w;
        }
    }
    return r;
}

void Trainer::save_state(int64_t epochs_done, const History& h, const std::vector<Param*>& params) const {
    StateFile f;
    f.put("epochs_done", static_cast<double>(epochs_done));
    f.put("step", static_cast<double>(step_));
    f.put("learning_rate", opt_.learning_rate);
    f.put("iterations", static_cast<double>(opt_.iterations));
    for (const Param* p : params) f.put("param/" + p->name, p->value);
    f.put("slots", static_cast<double>(opt_.slots.size()));
    for (size_t i = 0; i < opt_.slots.size(); ++i)
        for (size_t k = 0; k < opt_.slots[i].size(); ++k) f.put("slot/" + std::to_string(i) + "/" + std::to_string(k), opt_.slots[i][k]);
    f.put("history", static_cast<double>(h.epochs().size()));
    for (size_t e = 0; e < h.epochs().size(); ++e) {
        std::string names;
        for (size_t k = 0; k < h.epochs()[e].second.size(); ++k) names += (k ? "," : "") + h.epochs()[e].second[k].first;
        f.put_text("history/" + std::to_string(e) + "/names", names);
        // Metrics as doubles, one scalar each: the resumed history must equal the original bit for bit.
        for (size_t k = 0; k < h.epochs()[e].second.size(); ++k)
            f.put("history/" + std::to_string(e) + "/" + std::to_string(k), h.epochs()[e].second[k].second);
    }
    for (size_t c = 0; c < cfg_.callbacks.size(); ++c) cfg_.callbacks[c]->save_state(f, "callback/" + std::to_string(c) + "/");
    f.save(cfg_.state_path);
}

int64_t Trainer::load_state(History& h, const std::vector<Param*>& params) {
    StateFile f = StateFile::load(cfg_.state_path);
    for (Param* p : params) {
        const Tensor& t = f.tensor("param/" + p->name);
        if (t.shape() != p->value.shape()) throw UserError(cfg_.state_path + ": the saved " + p->name + " has another shape: a different model?");
        p->value = t;
    }
    step_ = static_cast<int64_t>(f.scalar("step"));
    opt_.learning_rate = f.scalar("learning_rate");
    opt_.iterations = static_cast<int64_t>(f.scalar("iterations"));
    opt_.slots.assign(static_cast<size_t>(f.scalar("slots")), {});
    for (size_t i = 0; i < opt_.slots.size(); ++i)
        for (size_t k = 0; f.has("slot/" + std::to_string(i) + "/" + std::to_string(k)); ++k)
            opt_.slots[i].push_back(f.tensor("slot/" + std::to_string(i) + "/" + std::to_string(k)));
    for (int e = 0; e < static_cast<int>(f.scalar("history")); ++e) {
        Metrics m;
        std::string names = f.text("history/" + std::to_string(e) + "/names");
        size_t k = 0, start = 0;
        while (start <= names.size() && !names.empty()) {
            size_t comma = names.find(',', start);
            std::string n = names.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            m.emplace_back(n, f.scalar("history/" + std::to_string(e) + "/" + std::to_string(k++)));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        h.add(e + 1 + static_cast<int>(cfg_.initial_epoch), m);
    }
    for (size_t c = 0; c < cfg_.callbacks.size(); ++c) cfg_.callbacks[c]->load_state(f, "callback/" + std::to_string(c) + "/");
    return static_cast<int64_t>(f.scalar("epochs_done"));
}

History Trainer::fit(const Samples& train, const Samples* val) {
    History history;
    const int64_t n = train.size();
    if (n == 0) throw UserError("the training data is empty");
    const int64_t bs = cfg_.batch_size;
    const int64_t steps = (n + bs - 1) / bs;
    const bool fused = net_.last_owns_activation() && fuses_with(cfg_.loss, cfg_.output_activation);
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    std::vector<Param*> params = net_.params();
    TrainState state{&opt_, params, cfg_.out, false};
    bool show_lr = false;
    for (auto& cb : cfg_.callbacks) {
        cb->on_train_begin(state);
        show_lr |= cb->schedules_lr();
    }
    int64_t first = cfg_.initial_epoch;
    if (cfg_.resume) {
        std::error_code ec;
        if (std::filesystem::exists(cfg_.state_path, ec)) {
            first = load_state(history, params);
            std::fprintf(cfg_.out, "Resuming after epoch %lld (%s)\n", static_cast<long long>(first), cfg_.state_path.c_str());
        } else {
            std::fprintf(cfg_.out, "No saved state at %s: starting from the beginning\n", cfg_.state_path.c_str());
        }
    }
    for (int64_t epoch = first; epoch < cfg_.epochs; ++epoch) {
        std::fprintf(cfg_.out, "Epoch %lld/%lld\n", static_cast<long long>(epoch + 1), static_cast<long long>(cfg_.epochs));
        std::fflush(cfg_.out);  // seen before the epoch's work, also through a pipe
        if (cfg_.shuffle) {
            // Fisher-Yates with the run's seed, from the identity each epoch: the order depends only
            // on (seed, epoch), the same on every machine and after a resume.
            for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
            Rng rng(derive_seed(cfg_.seed, 7, static_cast<uint64_t>(epoch)));
            for (int64_t i = n - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[rng.below(static_cast<uint64_t>(i + 1))]);
        }
        ProgressBar bar(steps, cfg_.interactive, cfg_.out);
        double t0 = now(), loss_sum = 0;
        std::vector<double> metric_sums(cfg_.metrics.size(), 0.0);
        int64_t seen = 0;
        Metrics shown;
        for (int64_t s = 0; s < steps; ++s) {
            int64_t b = std::min(bs, n - s * bs);
            gather(train, order, s * bs, b);
            StepInfo info{true, cfg_.seed, step_++};
            View out = net_.forward(bx_.view(), info);
            grad_.resize(out.shape);
            double loss = compute_loss(cfg_.loss, out, by_.view(), grad_.data(), fused);
            if (!std::isfinite(loss))
                throw UserError("the loss became " + std::string(std::isnan(loss) ? "NaN" : "infinite") + " at epoch " +
                                std::to_string(epoch + 1) + ", step " + std::to_string(s + 1) +
                                "; try a smaller learning rate (training stopped, nothing was saved from this epoch)");
            for (size_t m = 0; m < cfg_.metrics.size(); ++m) metric_sums[m] += metric_sum(cfg_.metrics[m], out, by_.view());
            // Keras' step loss: the data loss plus the penalty at the weights the step starts from;
            // the epoch's `loss` is their mean weighted by batch size (its Mean metric).
            const double penalty = regularization();
            net_.backward(grad_.view(), fused, info);
            opt_.step(params);
            loss_sum += (loss + penalty) * static_cast<double>(b);
            seen += b;
            shown.clear();
            shown.emplace_back("loss", loss_sum / static_cast<double>(seen));
            for (size_t m = 0; m < cfg_.metrics.size(); ++m)
                shown.emplace_back(cfg_.metrics[m].name, metric_sums[m] / static_cast<double>(seen));
            if (s + 1 < steps) bar.update(s + 1, now() - t0, shown);
        }
        bar.update(steps, now() - t0, shown);
        Metrics row = shown;
        if (val) {
            EvalResult v = evaluate(*val, false);
            for (const auto& [k, x] : v.values) row.emplace_back("val_" + k, x);
        }
        if (show_lr) row.emplace_back("learning_rate", opt_.learning_rate);  // the rate this epoch used: Keras 3's key
        bar.finish(now() - t0, row);
        history.add(static_cast<int>(epoch + 1), row);
        for (auto& cb : cfg_.callbacks) cb->on_epoch_end(epoch, row, state);
        bool stop = state.stop || (on_epoch_end && !on_epoch_end(epoch + 1, row));
        if (!cfg_.state_path.empty() && !stop && epoch + 1 < cfg_.epochs) save_state(epoch + 1, history, params);
        if (epoch + 1 == cfg_.interrupt_after && !stop)
            throw UserError("interrupted after epoch " + std::to_string(epoch + 1) + " (CNNC_INTERRUPT_AFTER_EPOCH); continue with --resume");
        if (stop) break;
    }
    for (auto& cb : cfg_.callbacks) cb->on_train_end(state);
    if (!cfg_.state_path.empty()) std::remove(cfg_.state_path.c_str());  // finished: nothing to resume
    return history;
}

EvalResult Trainer::evaluate(const Samples& data, bool progress) {
    const int64_t n = data.size();
    if (n == 0) throw UserError("the evaluation data is empty");
    const int64_t bs = cfg_.batch_size, steps = (n + bs - 1) / bs;
    double loss_sum = 0, t0 = now();
    std::vector<double> sums(cfg_.metrics.size(), 0.0);
    ProgressBar bar(steps, cfg_.interactive, cfg_.out);
    for (int64_t s = 0; s < steps; ++s) {
        int64_t b = std::min(bs, n - s * bs);
        gather(data, {}, s * bs, b);
        View out = net_.forward(bx_.view(), StepInfo{false, cfg_.seed, 0});
        loss_sum += compute_loss(cfg_.loss, out, by_.view(), nullptr, false) * static_cast<double>(b);
        for (size_t m = 0; m < cfg_.metrics.size(); ++m) sums[m] += metric_sum(cfg_.metrics[m], out, by_.view());
        if (progress && s + 1 < steps) bar.update(s + 1, now() - t0, {});
    }
    EvalResult r;
    r.loss = loss_sum / static_cast<double>(n) + regularization();
    r.values.emplace_back("loss", r.loss);
    for (size_t m = 0; m < cfg_.metrics.size(); ++m) r.values.emplace_back(cfg_.metrics[m].name, sums[m] / static_cast<double>(n));
    if (progress) {
        bar.update(steps, now() - t0, r.values);
        bar.finish(now() - t0, r.values);
    }
    return r;
}

}  // namespace cnnc::rt
