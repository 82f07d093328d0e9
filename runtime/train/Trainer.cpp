#include "train/Trainer.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <cmath>

#include "Error.h"
#include <fmt/format.h>

#include "io/StateFile.h"
#include "train/DataParallel.h"
#include "train/Interrupt.h"
#include "train/Random.h"

namespace cnnc::rt {

namespace {
double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::vector<View> views(std::vector<Tensor>& ts) {
    std::vector<View> v;
    for (Tensor& t : ts) v.push_back(t.view());
    return v;
}
}  // namespace

std::vector<bool> Trainer::fused() const {
    std::vector<bool> f;
    for (size_t k = 0; k < cfg_.outputs.size(); ++k)
        f.push_back(net_.output_owns_activation(k) && fuses_with(cfg_.outputs[k].loss, cfg_.outputs[k].activation));
    return f;
}

std::vector<std::vector<int64_t>> Trainer::batches(const std::vector<int64_t>& order) const {
    const int64_t n = static_cast<int64_t>(order.size()), bs = cfg_.batch_size;
    std::vector<std::vector<int64_t>> out;
    for (int64_t begin = 0; begin < n; begin += bs)
        out.emplace_back(order.begin() + begin, order.begin() + std::min(n, begin + bs));
    return out;
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

void Trainer::save_state(const Position& at, const History& h, const std::vector<Param*>& params) const {
    StateFile f;
    f.put_text("statement", cfg_.statement);
    f.put_text("optimizer", opt_.name());
    f.put("finished", at.finished ? 1 : 0);
    f.put("epochs_done", static_cast<double>(at.epoch));
    f.put("epoch_step", static_cast<double>(at.step));
    f.put("epoch_seen", static_cast<double>(at.seen));
    f.put("epoch_loss_sum", at.loss_sum);
    for (size_t m = 0; m < at.metric_sums.size(); ++m) f.put("epoch_metric_sum/" + std::to_string(m), at.metric_sums[m]);
    f.put("step", static_cast<double>(step_));
    f.put("learning_rate", opt_.learning_rate);
    f.put("iterations", static_cast<double>(opt_.iterations));
    f.put("params", static_cast<double>(params.size()));
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

// A state must belong to this statement and fit this network and optimizer exactly before any of
// it is applied: slots of another optimizer or shape would be indexed out of bounds by its update.
void Trainer::check_state(const StateFile& f, const std::vector<Param*>& params) const {
    const std::string& file = cfg_.state_path;
    auto refuse = [&](const std::string& why) {
        return UserError(file + ": the saved state does not match this run: " + why +
                         " (remove the file, or resume with the file and options that saved it)");
    };
    if (f.text("statement") != cfg_.statement)
        throw refuse("it was saved by " + f.text("statement") + ", not by " + cfg_.statement);
    if (f.text("optimizer") != opt_.name())
        throw refuse("it holds " + f.text("optimizer") + " optimizer state, the statement uses " + opt_.name());
    if (f.scalar("params") != static_cast<double>(params.size()))
        throw refuse("it holds " + format_value(f.scalar("params")) + " weights, the model has " + std::to_string(params.size()));
    std::vector<const Param*> trainable;
    for (const Param* p : params) {
        if (!f.has("param/" + p->name)) throw refuse("it has no weight " + p->name);
        const Tensor& t = f.tensor("param/" + p->name);
        if (t.shape() != p->value.shape())
            throw refuse(p->name + " has shape " + dims_str(t.shape()) + " in the file, " + dims_str(p->value.shape()) + " in the model");
        if (p->trainable) trainable.push_back(p);
    }
    const double slots = f.scalar("slots");
    if (slots == 0) return;  // saved before the optimizer's first step: it creates its slots then
    if (slots != static_cast<double>(trainable.size()))
        throw refuse("optimizer slots for " + format_value(slots) + " weights, the statement trains " + std::to_string(trainable.size()));
    size_t per = 0;
    while (f.has("slot/0/" + std::to_string(per))) ++per;
    for (size_t i = 0; i < trainable.size(); ++i) {
        for (size_t k = 0; k < per; ++k) {
            std::string name = "slot/" + std::to_string(i) + "/" + std::to_string(k);
            if (!f.has(name)) throw refuse("weight " + trainable[i]->name + " has fewer optimizer slots than the first");
            if (f.tensor(name).shape() != trainable[i]->value.shape()) throw refuse("the optimizer slot " + name + " does not fit " + trainable[i]->name);
        }
        if (f.has("slot/" + std::to_string(i) + "/" + std::to_string(per))) throw refuse("weight " + trainable[i]->name + " has more optimizer slots than the first");
    }
}

Trainer::Position Trainer::load_state(const StateFile& f, History& h, const std::vector<Param*>& params) {
    for (Param* p : params) p->value = f.tensor("param/" + p->name);
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
    Position at;
    at.finished = f.scalar("finished") != 0;
    at.epoch = static_cast<int64_t>(f.scalar("epochs_done"));
    if (at.finished) return at;  // the weights and the history are all a finished statement left
    step_ = static_cast<int64_t>(f.scalar("step"));
    opt_.learning_rate = f.scalar("learning_rate");
    opt_.iterations = static_cast<int64_t>(f.scalar("iterations"));
    opt_.slots.assign(static_cast<size_t>(f.scalar("slots")), {});
    for (size_t i = 0; i < opt_.slots.size(); ++i)
        for (size_t k = 0; f.has("slot/" + std::to_string(i) + "/" + std::to_string(k)); ++k)
            opt_.slots[i].push_back(f.tensor("slot/" + std::to_string(i) + "/" + std::to_string(k)));
    at.step = static_cast<int64_t>(f.scalar("epoch_step"));
    at.seen = static_cast<int64_t>(f.scalar("epoch_seen"));
    at.loss_sum = f.scalar("epoch_loss_sum");
    for (size_t m = 0; m < column_names(cfg_.outputs).size(); ++m) at.metric_sums.push_back(f.scalar("epoch_metric_sum/" + std::to_string(m)));
    for (size_t c = 0; c < cfg_.callbacks.size(); ++c) cfg_.callbacks[c]->load_state(f, "callback/" + std::to_string(c) + "/");
    return at;
}

void Trainer::interrupted(const Position& at, const History& h, const std::vector<Param*>& params, const std::string& where) const {
    save_state(at, h, params);
    std::fprintf(cfg_.out, "\n");
    std::fflush(cfg_.out);
    // Zero when the signal came to another data-parallel rank (all stop at the same step): mpirun
    // forwards Ctrl-C to the ranks as SIGTERM.
    const int sig = InterruptGuard::pending() ? InterruptGuard::pending() : SIGTERM;
    throw Interrupted(fmt::format("interrupted by {} {}; the training state is saved in {}", signal_name(sig),
                                  where, cfg_.state_path),
                      sig);
}

History Trainer::fit(const Samples& train, const Samples* val) {
    MemorySource t(train);
    if (!val) return fit(t, nullptr);
    MemorySource v(*val);
    return fit(t, &v);
}

EvalResult Trainer::evaluate(const Samples& data, bool progress) {
    MemorySource d(data);
    return evaluate(d, progress);
}

History Trainer::fit(Source& train, Source* val) {
    History history;
    const int64_t n = train.size();
    if (n == 0) throw UserError("the training data is empty");
    const int64_t bs = cfg_.batch_size;
    const int64_t steps = (n + bs - 1) / bs;
    const std::vector<bool> fused = this->fused();
    const std::vector<std::string> columns = column_names(cfg_.outputs);
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    std::vector<Param*> params = net_.params();
    std::unique_ptr<StateFile> saved;
    if (cfg_.resume) {
        std::error_code ec;
        if (std::filesystem::exists(cfg_.state_path, ec)) {
            saved = std::make_unique<StateFile>(StateFile::load(cfg_.state_path));
            check_state(*saved, params);
        } else {
            std::fprintf(cfg_.out, "No saved state at %s: starting from the beginning\n", cfg_.state_path.c_str());
        }
    }
    Position at;
    at.epoch = cfg_.initial_epoch;
    at.metric_sums.assign(columns.size(), 0.0);
    if (saved && saved->scalar("finished") != 0) {  // finished before the interruption: its result, not a second run
        load_state(*saved, history, params);
        std::fprintf(cfg_.out, "Already trained in the interrupted run: skipped (%s)\n", cfg_.state_path.c_str());
        return history;
    }
    TrainState state{&opt_, params, cfg_.out, false, &net_.keras_groups};
    bool show_lr = false;
    for (auto& cb : cfg_.callbacks) {
        cb->on_train_begin(state);
        show_lr |= cb->schedules_lr();
    }
    if (saved) {
        at = load_state(*saved, history, params);
        if (at.step == 0)
            std::fprintf(cfg_.out, "Resuming after epoch %lld (%s)\n", static_cast<long long>(at.epoch), cfg_.state_path.c_str());
        else
            std::fprintf(cfg_.out, "Resuming epoch %lld at step %lld/%lld (%s)\n", static_cast<long long>(at.epoch + 1),
                         static_cast<long long>(at.step + 1), static_cast<long long>(steps), cfg_.state_path.c_str());
    }
    InterruptGuard guard;
    DataParallel ranks;  // this process's part of each batch; does nothing in a process alone
    // Whether a signal stops the run here. Ranks decide on a flag they summed, never on their own
    // alone: mpirun signals them one after another, and a rank that stopped on a signal the
    // others had not yet had would leave them waiting for it at the next step for ever.
    auto stop_for_signal = [&](double summed) { return ranks.active() ? summed > 0 : InterruptGuard::pending() != 0; };
    for (int64_t epoch = at.epoch; epoch < cfg_.epochs; ++epoch) {
        std::fprintf(cfg_.out, "Epoch %lld/%lld\n", static_cast<long long>(epoch + 1), static_cast<long long>(cfg_.epochs));
        std::fflush(cfg_.out);  // seen before the epoch's work, also through a pipe
        if (cfg_.shuffle) {
            // Fisher-Yates with the run's seed, from the identity each epoch: the order depends only
            // on (seed, epoch), the same on every machine and after a resume.
            for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
            Rng rng(derive_seed(cfg_.seed, 7, static_cast<uint64_t>(epoch)));
            for (int64_t i = n - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[rng.below(static_cast<uint64_t>(i + 1))]);
        }
        std::vector<std::vector<int64_t>> epoch_batches = batches(order);
        std::vector<std::vector<int64_t>> mine = ranks.local(epoch_batches);
        // A resumed epoch fetches only the batches it has still to take.
        train.plan(DataParallel::nonempty({mine.begin() + at.step, mine.end()}));
        ProgressBar bar(steps, cfg_.interactive, cfg_.out);
        double t0 = now(), waited = 0;  // waited: seconds inside train.fetch (the data-wait figure)
        Position pos = at;  // the epoch's start, or where a resumed state stopped inside it
        Metrics shown;
        auto show = [&] {
            shown.clear();
            shown.emplace_back("loss", pos.loss_sum / static_cast<double>(pos.seen));
            for (size_t m = 0; m < columns.size(); ++m) shown.emplace_back(columns[m], pos.metric_sums[m] / static_cast<double>(pos.seen));
        };
        if (pos.seen > 0) show();
        for (int64_t s = pos.step; s < steps; ++s) {
            const int64_t b = static_cast<int64_t>(epoch_batches[static_cast<size_t>(s)].size());
            const int64_t local = static_cast<int64_t>(mine[static_cast<size_t>(s)].size());
            StepInfo info{true, cfg_.seed, step_++};
            info.first_sample = ranks.first_sample(b);
            // The step's sums over the ranks: the column sums, the loss sum, and whether a signal
            // came (so that every rank stops at the same step). A rank without samples adds nothing.
            std::vector<double> sums(columns.size() + 2, 0.0);
            double loss = 0;
            if (local > 0) {
                const double asked = now();
                train.fetch(mine[static_cast<size_t>(s)], batch_);
                waited += now() - asked;
                if (cfg_.data_wait) bar.data_wait(waited / std::max(now() - t0, 1e-9));
                std::vector<View> out = net_.forward_all(views(batch_.x), info);
                grads_.resize(out.size());
                loss = batch_loss(cfg_.outputs, out, views(batch_.y), &grads_, fused, sums);
            }
            if (ranks.active()) {
                sums[columns.size()] = loss * static_cast<double>(local);
                sums.back() = InterruptGuard::pending() ? 1 : 0;
                ranks.sum(sums);
                loss = sums[columns.size()] / static_cast<double>(b);
            }
            if (!std::isfinite(loss))
                throw UserError("the loss became " + std::string(std::isnan(loss) ? "NaN" : "infinite") + " at epoch " +
                                std::to_string(epoch + 1) + ", step " + std::to_string(s + 1) +
                                "; try a smaller learning rate (training stopped, nothing was saved from this epoch)");
            for (size_t m = 0; m < columns.size(); ++m) pos.metric_sums[m] += sums[m];
            // Keras' step loss: the data loss plus the penalty at the weights the step starts from;
            // the epoch's `loss` is their mean weighted by batch size (its Mean metric).
            const double penalty = regularization();
            GradientsDone summing = ranks.start_gradients(params, local, b);
            if (local > 0) net_.backward_all(views(grads_), fused, info, summing);
            ranks.sum_gradients();
            opt_.step(params);
            pos.loss_sum += (loss + penalty) * static_cast<double>(b);
            pos.seen += b;
            pos.step = s + 1;
            show();
            if (stop_for_signal(sums.back()))
                interrupted(pos, history, params, fmt::format("at epoch {}, step {}/{}", epoch + 1, s + 1, steps));
            if (s + 1 < steps) bar.update(s + 1, now() - t0, shown);
        }
        const double wait_fraction = waited / std::max(now() - t0, 1e-9);
        bar.update(steps, now() - t0, shown);
        ranks.average_state(params);
        ranks.check_replicas(params, epoch + 1);
        Metrics row = shown;
        if (val) {
            EvalResult v = evaluate(*val, false);
            for (const auto& [k, x] : v.values) row.emplace_back("val_" + k, x);
        }
        if (show_lr) row.emplace_back("learning_rate", opt_.learning_rate);  // the rate this epoch used: Keras 3's key
        if (cfg_.data_wait) bar.data_wait(wait_fraction);
        bar.finish(now() - t0, row);
        if (cfg_.data_wait) row.emplace_back("data_wait", wait_fraction);  // the line says "data 12%"; the history keeps it
        history.add(static_cast<int>(epoch + 1), row);
        for (auto& cb : cfg_.callbacks) cb->on_epoch_end(epoch, row, state);
        bool stop = state.stop || (on_epoch_end && !on_epoch_end(epoch + 1, row));
        at = Position{epoch + 1, 0, 0, 0, std::vector<double>(columns.size(), 0.0), false};
        if (!cfg_.state_path.empty() && !stop && epoch + 1 < cfg_.epochs) {
            save_state(at, history, params);
            // A signal during validation: the epoch is complete, and so is its state.
            std::vector<double> signalled{InterruptGuard::pending() ? 1.0 : 0.0};
            ranks.sum(signalled);
            if (stop_for_signal(signalled[0])) interrupted(at, history, params, fmt::format("after epoch {}", epoch + 1));
        }
        if (epoch + 1 == cfg_.interrupt_after && !stop)
            throw UserError("interrupted after epoch " + std::to_string(epoch + 1) + " (CNNC_INTERRUPT_AFTER_EPOCH); continue with --resume");
        if (stop) break;
    }
    for (auto& cb : cfg_.callbacks) cb->on_train_end(state);
    at.finished = true;
    // Kept until the whole run is done: resumed after a later statement was interrupted, this
    // one is not trained a second time.
    if (!cfg_.state_path.empty()) save_state(at, history, params);
    ranks.world().barrier();  // what rank 0 wrote is there before any rank reads it
    return history;
}

EvalResult Trainer::evaluate(Source& data, bool progress) {
    const int64_t n = data.size();
    if (n == 0) throw UserError("the evaluation data is empty");
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    DataParallel ranks;
    std::vector<std::vector<int64_t>> all = ranks.local(batches(order));
    data.plan(DataParallel::nonempty(all));
    const int64_t steps = static_cast<int64_t>(all.size());
    double loss_sum = 0, t0 = now();
    const std::vector<std::string> columns = column_names(cfg_.outputs);
    // The column sums, then the loss sum: each rank adds its part of every batch, then the ranks
    // add theirs.
    std::vector<double> sums(columns.size() + 1, 0.0);
    const std::vector<bool> logits(cfg_.outputs.size(), false);
    ProgressBar bar(steps, cfg_.interactive, cfg_.out);
    for (int64_t s = 0; s < steps; ++s) {
        if (!all[static_cast<size_t>(s)].empty()) {
            data.fetch(all[static_cast<size_t>(s)], batch_);
            std::vector<View> out = net_.forward_all(views(batch_.x), StepInfo{false, cfg_.seed, 0});
            loss_sum += batch_loss(cfg_.outputs, out, views(batch_.y), nullptr, logits, sums) * static_cast<double>(batch_.size);
        }
        if (progress && s + 1 < steps) bar.update(s + 1, now() - t0, {});
    }
    if (ranks.active()) {
        sums.back() = loss_sum;
        ranks.sum(sums);
        loss_sum = sums.back();
    }
    EvalResult r;
    r.loss = loss_sum / static_cast<double>(n) + regularization();
    r.values.emplace_back("loss", r.loss);
    for (size_t m = 0; m < columns.size(); ++m) r.values.emplace_back(columns[m], sums[m] / static_cast<double>(n));
    if (progress) {
        bar.update(steps, now() - t0, r.values);
        bar.finish(now() - t0, r.values);
    }
    return r;
}

}  // namespace cnnc::rt
