// Callbacks against Keras 3's rules, epoch by epoch on scripted metrics, and end to end.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "Helpers.h"
#include "TempDir.h"
#include "sema/Written.h"
#include "train/Callbacks.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

struct Scripted {
    std::unique_ptr<rt::Optimizer> opt_owner = make_optimizer({"rmsprop"});
    rt::Optimizer& opt = *opt_owner;
    rt::Param param;
    rt::TrainState st;
    std::unique_ptr<rt::Callback> cb;
    explicit Scripted(WrittenCall a) {
        param.value = rt::Tensor({1});
        param.value[0] = 0;
        st.optimizer = &opt;
        st.params = {&param};
        cb = make_callback(a);
        cb->on_train_begin(st);
    }
    // Runs epochs with `values` of `metric`; returns the number of epochs run before a stop.
    int run(const std::string& metric, const std::vector<double>& values, std::vector<double>* lrs = nullptr) {
        for (size_t e = 0; e < values.size(); ++e) {
            param.value[0] = static_cast<float>(e);  // the "weights" of epoch e
            cb->on_epoch_end(static_cast<int64_t>(e), {{metric, values[e]}}, st);
            if (lrs) lrs->push_back(opt.learning_rate);
            if (st.stop) return static_cast<int>(e + 1);
        }
        return static_cast<int>(values.size());
    }
};

WrittenCall args(std::string kind, std::map<std::string, double> num, std::map<std::string, std::string> str = {}) {
    WrittenCall a;
    a.name = std::move(kind);
    a.num = std::move(num);
    a.str = std::move(str);
    return a;
}

}  // namespace

TEST_CASE("EarlyStopping stops after `patience` epochs without improvement", "[callbacks]") {
    Scripted s(args("EarlyStopping", {{"patience", 2}}, {{"monitor", "val_loss"}}));
    // 1.0, 0.9 improve; 0.95 and 0.96 do not: the second of them reaches patience 2.
    CHECK(s.run("val_loss", {1.0, 0.9, 0.95, 0.96, 0.5}) == 4);
}

TEST_CASE("EarlyStopping: patience 0 stops at the first epoch without improvement, never the first", "[callbacks]") {
    Scripted s(args("EarlyStopping", {{"patience", 0}}, {{"monitor", "val_loss"}}));
    CHECK(s.run("val_loss", {1.0, 1.1, 0.5}) == 2);
}

TEST_CASE("EarlyStopping: an improvement smaller than min_delta does not count", "[callbacks]") {
    Scripted s(args("EarlyStopping", {{"patience", 1}, {"min_delta", 0.01}}, {{"monitor", "val_loss"}}));
    CHECK(s.run("val_loss", {1.0, 0.995, 0.5}) == 2);
}

TEST_CASE("EarlyStopping maximises accuracy and restores the best epoch's weights", "[callbacks]") {
    Scripted s(args("EarlyStopping", {{"patience", 2}, {"restore_best_weights", 1}}, {{"monitor", "val_accuracy"}}));
    CHECK(s.run("val_accuracy", {0.5, 0.6, 0.55, 0.58, 0.9}) == 4);
    s.cb->on_train_end(s.st);
    CHECK(s.param.value[0] == 1.0f);  // epoch 2 (index 1) had the best val_accuracy
}

// The expected stops below are traced through Keras 3's EarlyStopping.on_epoch_end: `best` starts
// as None (any first value improves on it), `wait` is incremented before the comparison, an
// improvement returns before the patience test, and the baseline only decides whether `wait` resets.
TEST_CASE("EarlyStopping with a baseline: improvements short of it keep counting but never stop training", "[callbacks][keras]") {
    Scripted s(args("EarlyStopping", {{"patience", 3}, {"baseline", 0.5}}, {{"monitor", "val_loss"}}));
    // 0.9, 0.8, 0.7 each improve (wait 1, 2, 3, not reset: none beats 0.5); 0.75 does not, wait 4 >= 3.
    CHECK(s.run("val_loss", {0.9, 0.8, 0.7, 0.75, 0.1}) == 4);
}

TEST_CASE("EarlyStopping with a baseline: beating it resets wait", "[callbacks][keras]") {
    Scripted s(args("EarlyStopping", {{"patience", 2}, {"baseline", 0.5}}, {{"monitor", "val_loss"}}));
    // 0.6 improves on None (wait 1); 0.4 beats 0.6 and 0.5 (wait 0); 0.45 (wait 1); 0.42 (wait 2): stop.
    CHECK(s.run("val_loss", {0.6, 0.4, 0.45, 0.42, 0.1}) == 4);
}

TEST_CASE("EarlyStopping with a baseline and restore_best_weights restores the best epoch, not the first", "[callbacks][keras]") {
    Scripted s(args("EarlyStopping", {{"patience", 1}, {"baseline", 0.5}, {"restore_best_weights", 1}}, {{"monitor", "val_loss"}}));
    // 0.9 (wait 1) and 0.7 (wait 2) improve, so no stop; 0.8 does not: wait 3 >= 1, stop.
    CHECK(s.run("val_loss", {0.9, 0.7, 0.8, 0.1}) == 3);
    s.cb->on_train_end(s.st);
    CHECK(s.param.value[0] == 1.0f);  // epoch index 1 had the best val_loss
}

TEST_CASE("EarlyStopping ignores the epochs before start_from_epoch, and its best starts after them", "[callbacks][keras]") {
    Scripted s(args("EarlyStopping", {{"patience", 0}, {"start_from_epoch", 2}}, {{"monitor", "val_loss"}}));
    // Indices 0 and 1 are skipped, so 3.0 is the first best although 1.0 and 0.5 were lower; 3.0 again does not improve.
    CHECK(s.run("val_loss", {1.0, 0.5, 3.0, 3.0, 0.1}) == 4);
    Scripted t(args("EarlyStopping", {{"patience", 0}, {"start_from_epoch", 2}}, {{"monitor", "val_loss"}}));
    CHECK(t.run("val_loss", {1.0, 2.0, 3.0, 2.5, 2.6}) == 5);
}

TEST_CASE("EarlyStopping: an explicit mode overrides the metric's direction", "[callbacks][keras]") {
    Scripted s(args("EarlyStopping", {{"patience", 1}}, {{"monitor", "val_loss"}, {"mode", "max"}}));
    CHECK(s.run("val_loss", {1.0, 0.9, 0.8}) == 2);  // a falling loss does not improve under max
    Scripted t(args("EarlyStopping", {{"patience", 1}}, {{"monitor", "val_accuracy"}, {"mode", "min"}}));
    CHECK(t.run("val_accuracy", {0.5, 0.6, 0.7}) == 2);
    Scripted u(args("EarlyStopping", {{"patience", 1}}, {{"monitor", "val_accuracy"}, {"mode", "auto"}}));
    CHECK(u.run("val_accuracy", {0.5, 0.6, 0.7}) == 3);
}

TEST_CASE("EarlyStopping: min_delta when maximising", "[callbacks][keras]") {
    Scripted s(args("EarlyStopping", {{"patience", 1}, {"min_delta", 0.05}}, {{"monitor", "val_accuracy"}}));
    // 0.56 - 0.05 > 0.5 improves; 0.6 - 0.05 > 0.56 does not: wait 1 >= 1.
    CHECK(s.run("val_accuracy", {0.5, 0.56, 0.6, 0.9}) == 3);
}

TEST_CASE("ReduceLROnPlateau divides the rate by 1/factor after `patience` flat epochs: 0.001, 2e-4, 4e-5", "[callbacks]") {
    Scripted s(args("ReduceLROnPlateau", {{"factor", 0.2}, {"patience", 2}}, {{"monitor", "val_loss"}}));
    std::vector<double> lrs;
    s.run("val_loss", {1, 1, 1, 1, 1, 1}, &lrs);
    REQUIRE(lrs.size() == 6);
    CHECK(lrs[0] == Approx(1e-3));
    CHECK(lrs[1] == Approx(1e-3));
    CHECK(lrs[2] == Approx(2e-4));
    CHECK(lrs[3] == Approx(2e-4));
    CHECK(lrs[4] == Approx(4e-5));
    CHECK(lrs[5] == Approx(4e-5));
}

TEST_CASE("ReduceLROnPlateau honours cooldown and min_lr", "[callbacks]") {
    Scripted s(args("ReduceLROnPlateau", {{"factor", 0.5}, {"patience", 1}, {"cooldown", 2}, {"min_lr", 3e-4}},
                    {{"monitor", "val_loss"}}));
    std::vector<double> lrs;
    s.run("val_loss", {1, 1, 1, 1, 1, 1, 1}, &lrs);
    // Reduce after epoch index 1; Keras counts the cooldown down at the start of each epoch, so
    // cooldown 2 holds index 2 only; index 3 reduces again, floored at min_lr.
    CHECK(lrs == std::vector<double>{1e-3, 5e-4, 5e-4, 3e-4, 3e-4, 3e-4, 3e-4});
}

TEST_CASE("CSVLogger writes Keras' columns (epoch from 0, metrics sorted) and appends", "[callbacks]") {
    TempDir dir;
    std::string path = dir.path() + "/log/train.csv";
    for (int run = 0; run < 2; ++run) {
        Scripted s(args("CSVLogger", {{"append", run == 1 ? 1.0 : 0.0}}, {{"filename", path}}));
        s.cb->on_epoch_end(0, {{"loss", 0.5}, {"accuracy", 0.75}}, s.st);
        s.cb->on_epoch_end(1, {{"loss", 0.25}, {"accuracy", 1}}, s.st);
    }
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK(ss.str() == "epoch,accuracy,loss\n0,0.75,0.5\n1,1,0.25\n0,0.75,0.5\n1,1,0.25\n");
}

TEST_CASE("mode auto: losses are minimised, accuracies maximised", "[callbacks]") {
    CHECK(rt::minimize("val_loss", "auto"));
    CHECK(rt::minimize("loss", "auto"));
    CHECK(rt::minimize("mean_squared_error", "auto"));
    CHECK_FALSE(rt::minimize("val_accuracy", "auto"));
    CHECK_FALSE(rt::minimize("acc", "auto"));
    CHECK_FALSE(rt::minimize("val_loss", "max"));
}
