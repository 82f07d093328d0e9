#include "train/Callbacks.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "Error.h"
#include "io/AtomicFile.h"
#include "io/Weights.h"

namespace cnnc::rt {

std::string under_output_dir(const std::string& dir, const std::string& path) {
    if (dir.empty() || dir == "." || path.empty() || path[0] == '/') return path;
    return dir.back() == '/' ? dir + path : dir + "/" + path;
}

bool minimize(const std::string& monitor, const std::string& mode) {
    if (mode == "min") return true;
    if (mode == "max") return false;
    std::string m = monitor.rfind("val_", 0) == 0 ? monitor.substr(4) : monitor;
    return !(m.find("acc") != std::string::npos || m == "auc" || m == "precision" || m == "recall");
}

namespace {

const double* find(const Metrics& logs, const std::string& name) {
    for (const auto& [k, v] : logs)
        if (k == name) return &v;
    return nullptr;
}

// keras.callbacks.MonitorCallback: the direction of `monitor` and _is_improvement. The best value
// starts unset (Keras' None), so the first value seen is always an improvement.
class Monitor {
  public:
    explicit Monitor(const MonitorArgs& a) : name(a.monitor), min_(minimize(name, a.mode)), min_delta_(std::fabs(a.min_delta)) {}
    // monitor_op(value - min_delta, reference), with min_delta negated when minimising.
    bool improves(double value, std::optional<double> reference) const {
        if (!reference) return true;
        return min_ ? value + min_delta_ < *reference : value - min_delta_ > *reference;
    }
    const std::string name;

  private:
    bool min_;
    double min_delta_;
};

void save_best(StateFile& f, const std::string& key, const std::optional<double>& best) {
    if (best) f.put(key, *best);
}
std::optional<double> load_best(const StateFile& f, const std::string& key) {
    return f.has(key) ? std::optional<double>(f.scalar(key)) : std::nullopt;
}

// keras.callbacks.EarlyStopping (Keras 3). `baseline` does not seed the best value: it only decides
// whether an improvement resets `wait`.
class EarlyStopping : public Callback {
  public:
    explicit EarlyStopping(const EarlyStoppingArgs& a)
        : monitor_(a.monitor), patience_(a.patience), verbose_(a.verbose), restore_(a.restore_best_weights),
          start_from_(a.start_from_epoch), baseline_(a.baseline) {}

    void on_train_begin(TrainState&) override {
        wait_ = 0, stopped_epoch_ = 0, best_epoch_ = 0;
        best_.reset();
        best_weights_.clear();
    }
    void on_epoch_end(int64_t epoch, const Metrics& logs, TrainState& st) override {
        const double* cur = find(logs, monitor_.name);
        if (!cur || epoch < start_from_) return;
        if (restore_ && best_weights_.empty()) {  // never set: the current weights are the best
            snapshot(st);
            best_epoch_ = epoch;
        }
        ++wait_;
        if (monitor_.improves(*cur, best_)) {
            best_ = *cur;
            best_epoch_ = epoch;
            if (restore_) snapshot(st);
            // Only restart wait if we beat both the baseline and our previous best.
            if (!baseline_ || monitor_.improves(*cur, baseline_)) wait_ = 0;
            return;
        }
        if (wait_ >= patience_ && epoch > 0) {
            stopped_epoch_ = epoch;
            st.stop = true;
        }
    }
    void on_train_end(TrainState& st) override {
        if (stopped_epoch_ > 0 && verbose_) std::fprintf(st.out, "Epoch %lld: early stopping\n", static_cast<long long>(stopped_epoch_ + 1));
        if (restore_ && !best_weights_.empty()) {
            if (verbose_) std::fprintf(st.out, "Restoring model weights from the end of the best epoch: %lld.\n", static_cast<long long>(best_epoch_ + 1));
            for (size_t i = 0; i < st.params.size(); ++i) st.params[i]->value = best_weights_[i];
        }
    }

    void save_state(StateFile& f, const std::string& p) const override {
        f.put(p + "wait", static_cast<double>(wait_));
        f.put(p + "stopped_epoch", static_cast<double>(stopped_epoch_));
        save_best(f, p + "best", best_);
        f.put(p + "best_epoch", static_cast<double>(best_epoch_));
        f.put(p + "best_weights", static_cast<double>(best_weights_.size()));
        for (size_t i = 0; i < best_weights_.size(); ++i) f.put(p + "best_weights/" + std::to_string(i), best_weights_[i]);
    }
    void load_state(const StateFile& f, const std::string& p) override {
        wait_ = static_cast<int64_t>(f.scalar(p + "wait"));
        stopped_epoch_ = static_cast<int64_t>(f.scalar(p + "stopped_epoch"));
        best_ = load_best(f, p + "best");
        best_epoch_ = static_cast<int64_t>(f.scalar(p + "best_epoch"));
        best_weights_.clear();
        for (int i = 0; i < static_cast<int>(f.scalar(p + "best_weights")); ++i) best_weights_.push_back(f.tensor(p + "best_weights/" + std::to_string(i)));
    }

  private:
    void snapshot(const TrainState& st) {
        best_weights_.clear();
        for (const Param* p : st.params) best_weights_.push_back(p->value);
    }
    Monitor monitor_;
    int64_t patience_;
    bool verbose_, restore_;
    int64_t start_from_;
    std::optional<double> baseline_, best_;
    int64_t wait_ = 0, stopped_epoch_ = 0, best_epoch_ = 0;
    std::vector<Tensor> best_weights_;
};

// keras.callbacks.ReduceLROnPlateau (Keras 3). The trainer writes the `learning_rate` log entry
// (the rate the epoch used) before the callbacks run, as this callback does in Keras.
class ReduceLROnPlateau : public Callback {
  public:
    explicit ReduceLROnPlateau(const ReduceLROnPlateauArgs& a)
        : monitor_(a.monitor), factor_(a.factor), patience_(a.patience), verbose_(a.verbose), cooldown_(a.cooldown), min_lr_(a.min_lr) {
        if (factor_ >= 1) throw UserError("ReduceLROnPlateau does not support a factor >= 1");
    }
    bool schedules_lr() const override { return true; }
    void on_train_begin(TrainState&) override {
        best_.reset();
        cooldown_counter_ = 0, wait_ = 0;
    }
    void on_epoch_end(int64_t epoch, const Metrics& logs, TrainState& st) override {
        const double* cur = find(logs, monitor_.name);
        if (!cur) return;
        if (cooldown_counter_ > 0) {
            --cooldown_counter_;
            wait_ = 0;
        }
        if (monitor_.improves(*cur, best_)) {
            best_ = *cur;
            wait_ = 0;
        } else if (cooldown_counter_ <= 0) {
            if (++wait_ >= patience_) {
                double old_lr = st.optimizer->learning_rate;
                if (static_cast<float>(old_lr) > static_cast<float>(min_lr_)) {  // Keras compares in float32
                    double lr = std::max(old_lr * factor_, min_lr_);
                    st.optimizer->learning_rate = lr;
                    if (verbose_)
                        std::fprintf(st.out, "Epoch %lld: ReduceLROnPlateau reducing learning rate to %g.\n",
                                     static_cast<long long>(epoch + 1), lr);
                    cooldown_counter_ = cooldown_;
                    wait_ = 0;
                }
            }
        }
    }

    void save_state(StateFile& f, const std::string& p) const override {
        save_best(f, p + "best", best_);
        f.put(p + "wait", static_cast<double>(wait_));
        f.put(p + "cooldown_counter", static_cast<double>(cooldown_counter_));
    }
    void load_state(const StateFile& f, const std::string& p) override {
        best_ = load_best(f, p + "best");
        wait_ = static_cast<int64_t>(f.scalar(p + "wait"));
        cooldown_counter_ = static_cast<int64_t>(f.scalar(p + "cooldown_counter"));
    }

  private:
    Monitor monitor_;
    double factor_;
    int64_t patience_;
    bool verbose_;
    int64_t cooldown_;
    double min_lr_;
    std::optional<double> best_;
    int64_t cooldown_counter_ = 0, wait_ = 0;
};

// keras.callbacks.CSVLogger: one row per epoch, columns `epoch` (0-based, as Keras writes it)
// and the metrics sorted by name. Rewritten atomically after every epoch, so an interrupted run
// leaves a whole file.
class CSVLogger : public Callback {
  public:
    explicit CSVLogger(const CSVLoggerArgs& a) : path_(under_output_dir(a.output_dir, a.filename)), sep_(a.separator), append_(a.append) {}
    void on_train_begin(TrainState&) override {
        text_.clear();
        header_.clear();
        if (append_) {
            std::FILE* f = std::fopen(path_.c_str(), "rb");
            if (f) {
                char buf[4096];
                size_t n;
                while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text_.append(buf, n);
                std::fclose(f);
            }
        }
    }
    void on_epoch_end(int64_t epoch, const Metrics& logs, TrainState&) override {
        Metrics sorted = logs;
        std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        if (header_.empty()) {
            header_ = "epoch";
            for (const auto& [k, v] : sorted) header_ += sep_ + k;
            if (text_.empty()) text_ = header_ + "\n";
        }
        std::string row = std::to_string(epoch);
        for (const auto& [k, v] : sorted) {
            char b[64];
            std::snprintf(b, sizeof b, "%.17g", v);
            row += sep_ + b;
        }
        text_ += row + "\n";
        write_file_atomically(path_, text_);
    }
    std::vector<Output> outputs() const override {
        if (header_.empty()) return {};  // no epoch ended: nothing written
        return {{"Log", path_}};
    }

    void save_state(StateFile& f, const std::string& p) const override {
        f.put_text(p + "text", text_);
        f.put_text(p + "header", header_);
    }
    void load_state(const StateFile& f, const std::string& p) override {
        text_ = f.text(p + "text");
        header_ = f.text(p + "header");
    }

  private:
    std::string path_, sep_;
    bool append_;
    std::string text_, header_;
};

}  // namespace

std::string format_checkpoint_path(const std::string& pattern, int64_t epoch, const Metrics& logs) {
    std::string out;
    for (size_t i = 0; i < pattern.size(); ++i) {
        size_t close = pattern[i] == '{' ? pattern.find('}', i) : std::string::npos;
        if (close == std::string::npos) {
            out += pattern[i];
            continue;
        }
        std::string field = pattern.substr(i + 1, close - i - 1), spec;
        if (auto colon = field.find(':'); colon != std::string::npos) spec = field.substr(colon + 1), field = field.substr(0, colon);
        char buf[128];
        if (field == "epoch") {
            std::string f = "%" + (spec.empty() ? std::string("d") : spec);
            if (f.back() == 'd') f.insert(f.size() - 1, "ll");
            std::snprintf(buf, sizeof buf, f.c_str(), static_cast<long long>(epoch));
        } else {
            const double* v = find(logs, field);
            if (!v) throw UserError("ModelCheckpoint: the path names {" + field + "}, which this training does not report");
            std::string f = "%" + (spec.empty() ? std::string("g") : spec);
            std::snprintf(buf, sizeof buf, f.c_str(), *v);
        }
        out += buf;
        i = close;
    }
    return out;
}

namespace {

// keras.callbacks.ModelCheckpoint: saves the weights (Keras' HDF5 layout, written atomically)
// after every epoch, or only when `monitor` improves.
class ModelCheckpoint : public Callback {
  public:
    explicit ModelCheckpoint(const ModelCheckpointArgs& a)
        : path_(under_output_dir(a.output_dir, a.filepath)), monitor_(a.monitor), min_(minimize(monitor_, a.mode)), best_only_(a.save_best_only),
          verbose_(a.verbose), threshold_(a.initial_value_threshold) {}
    void on_train_begin(TrainState&) override { best_ = threshold_ ? *threshold_ : (min_ ? INFINITY : -INFINITY); }
    void on_epoch_end(int64_t epoch, const Metrics& logs, TrainState& st) override {
        std::string path = format_checkpoint_path(path_, epoch + 1, logs);
        if (!best_only_) {
            if (verbose_) std::fprintf(st.out, "Epoch %lld: saving model to %s\n", static_cast<long long>(epoch + 1), path.c_str());
            save(path, st);
            return;
        }
        const double* cur = find(logs, monitor_);
        if (!cur) return;
        if (min_ ? *cur < best_ : *cur > best_) {
            if (verbose_)
                std::fprintf(st.out, "Epoch %lld: %s improved from %.5f to %.5f, saving model to %s\n", static_cast<long long>(epoch + 1),
                             monitor_.c_str(), best_, *cur, path.c_str());
            best_ = *cur;
            save(path, st);
        } else if (verbose_) {
            std::fprintf(st.out, "Epoch %lld: %s did not improve from %.5f\n", static_cast<long long>(epoch + 1), monitor_.c_str(), best_);
        }
    }

    void save_state(StateFile& f, const std::string& p) const override { f.put(p + "best", best_); }
    void load_state(const StateFile& f, const std::string& p) override { best_ = f.scalar(p + "best"); }
    std::vector<Output> outputs() const override {
        std::vector<Output> out;
        for (const std::string& p : written_) out.push_back({"Checkpoint", p});
        return out;
    }

  private:
    void save(const std::string& path, TrainState& st) {
        save_trained_weights(path, st.params, st.keras_groups ? *st.keras_groups : std::vector<KerasGroup>{}, st.optimizer);
        if (std::find(written_.begin(), written_.end(), path) == written_.end()) written_.push_back(path);
    }

    std::string path_, monitor_;
    std::vector<std::string> written_;
    bool min_, best_only_, verbose_;
    std::optional<double> threshold_;
    double best_ = 0;
};

// keras.callbacks.TerminateOnNaN. cnnc's trainer always stops on a NaN or infinite loss with an
// error, so this callback needs no action of its own.
class TerminateOnNaN : public Callback {
  public:
    void on_epoch_end(int64_t, const Metrics&, TrainState&) override {}
};

}  // namespace

std::unique_ptr<Callback> model_checkpoint(const ModelCheckpointArgs& a) { return std::make_unique<ModelCheckpoint>(a); }
std::unique_ptr<Callback> early_stopping(const EarlyStoppingArgs& a) { return std::make_unique<EarlyStopping>(a); }
std::unique_ptr<Callback> reduce_lr_on_plateau(const ReduceLROnPlateauArgs& a) { return std::make_unique<ReduceLROnPlateau>(a); }
std::unique_ptr<Callback> csv_logger(const CSVLoggerArgs& a) { return std::make_unique<CSVLogger>(a); }
std::unique_ptr<Callback> terminate_on_nan() { return std::make_unique<TerminateOnNaN>(); }

}  // namespace cnnc::rt
