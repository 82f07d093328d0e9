// Issue 17: the optimizer's state read back from a Keras 3 `.weights.h5` (`optimizer/vars/<i>`), as
// Keras 3's load_weights restores it into a built optimizer (keras/src/saving/saving_lib.py
// _load_state: the model's `optimizer` attribute is a saveable, loaded from "optimizer/vars";
// keras/src/optimizers/base_optimizer.py load_own_variables: variable i from store[str(i)] when
// the counts match, else a warning and nothing loaded).
// - A training of K epochs saved, loaded by `train ... { weights = ... }` and trained K more ends
//   exactly where 2K uninterrupted epochs end, weights and optimizer state.
// - A file h5py writes with known values in Keras' order (iterations, learning_rate, then build()'s
//   slots: adam.py interleaves momentum and velocity per variable; rmsprop.py has all velocities,
//   then all momentums, then all average gradients; nadam.py adds u_product last) loads each value
//   into its slot.
// - Another optimizer's state is skipped with a warning; a slot of another shape is an error.
#include <filesystem>
#include <fstream>

#include "EngineHelpers.h"
#include "Faults.h"
#include "KerasTree.h"
#include "TempDir.h"
#include "engine/LoadWeights.h"
#include "io/Weights.h"
#include "train/KerasOptimizer.h"
#include "train/Optimizer.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

// Every array of a weights file, the optimizer's too.
std::map<std::string, std::vector<float>> all_values(const fs::path& path) {
    std::map<std::string, std::vector<float>> out;
    for (const auto& [name, a] : rt::read_weights(path.string()).by_path) {
        if (name == "optimizer/vars/0") {
            out[name] = {static_cast<float>(a.read_integer(name))};
            continue;
        }
        rt::Tensor t(a.shape());
        a.read_into(t, name);
        out[name].assign(t.data(), t.data() + t.size());
    }
    return out;
}

// bars.cnn's training with `optimizer`, `epochs` and extra fields.
std::string bars_training(const std::string& optimizer, int epochs, const std::string& extra) {
    std::string model = kModel;
    model.replace(model.find("adam(learning_rate = 0.01)"), 26, optimizer);
    model.replace(model.find("epochs = 4"), 10, "epochs = " + std::to_string(epochs) + extra);
    return model;
}

const char* kFlat = "model flat { input(4) Dense(3, activation = relu) Dropout(0.5) Dense(2) }";

// The flat model's `.weights.h5` as h5py writes what Keras 3.6+ saves, its optimizer `name` and
// `slots` (a Python expression: the list of optimizer variables after iterations and learning
// rate, `arr(k, shape)` holding 100 * k + its flat index); the model's variables are v0..v3.
void write_flat(const fs::path& dir, const fs::path& out, const std::string& name, const std::string& slots, int64_t iterations = 7) {
    std::ofstream(dir / "w.py") << R"(import h5py, numpy as np, sys
def arr(k, shape):
    return (100 * k + np.arange(int(np.prod(shape)))).astype(np.float32).reshape(shape)
shapes = [(4, 3), (3,), (3, 2), (2,)]
v0, v1, v2, v3 = shapes
with h5py.File(sys.argv[1], "w") as f:
    f.create_group("vars")
    f.create_group("layers/dropout/vars")
    for j, (layer, at) in enumerate([("dense", 0), ("dense", 1), ("dense_1", 0), ("dense_1", 1)]):
        f["layers/%s/vars/%d" % (layer, at)] = arr(j, shapes[j])
    g = f.create_group("optimizer/vars")
    if sys.argv[2]:
        g.attrs["name"] = sys.argv[2]
    g["0"] = np.int64(int(sys.argv[3]))
    g["1"] = np.float32(0.01)
    for i, a in enumerate()" << slots << R"():
        g[str(2 + i)] = a
)";
    REQUIRE(run_shell("/usr/bin/python3 " + (dir / "w.py").string() + " " + out.string() + " '" + name + "' " + std::to_string(iterations))
                .status == 0);
}

// The optimizer state in `path` loaded into `opt`, for `net`'s weights.
rt::OptimizerLoad load(const fs::path& path, rt::Optimizer& opt, rt::Network& net) {
    return rt::load_keras_optimizer(rt::read_weights(path.string()), path.string(), opt, net.params());
}

// Slot `s` of trainable variable `j` holds array k of the file.
void check_slot(const rt::Optimizer& opt, size_t j, size_t s, int k) {
    const rt::Tensor& t = opt.slots.at(j).at(s);
    INFO("variable " << j << " slot " << s << " <- optimizer/vars/" << k);
    for (int64_t i = 0; i < t.size(); ++i) REQUIRE(t[i] == static_cast<float>(100 * k + i));
}

void train_steps(rt::Network& net, rt::Optimizer& opt, int steps, uint64_t seed) {
    rt::Rng rng(seed);
    for (int s = 0; s < steps; ++s) {
        for (rt::Param* p : net.params()) {
            p->grad = rt::Tensor(p->value.shape());
            fill_uniform(p->grad.data(), p->grad.size(), rng, -1, 1);
        }
        opt.step(net.params());
    }
}

}  // namespace

TEST_CASE("K epochs, saved to .weights.h5 and loaded by a train statement, then K more, end exactly as 2K epochs",
          "[weights][keras3][optimizer]") {
    for (const char* optimizer : {"adam(learning_rate = 0.01)", "rmsprop(learning_rate = 0.01, momentum = 0.5, centered = true)",
                                  "nadam(learning_rate = 0.01)", "sgd(learning_rate = 0.05, momentum = 0.9, nesterov = true)"}) {
        SECTION(optimizer) {
            TempDir dir;
            const fs::path d(dir.path());
            write_bars_files(d, 64, 16, bars_training(optimizer, 2, ""));
            std::ofstream(d / "first.cnn") << bars_training(optimizer, 1, "");
            std::ofstream(d / "second.cnn") << bars_training(optimizer, 2, "\n    initial_epoch = 1\n    weights = \"first/bar_net.weights.h5\"");
            CommandResult whole = run_cnnc("run bars.cnn --seed 5 --output-dir whole", d.string());
            INFO(whole.output);
            REQUIRE(whole.status == 0);
            CommandResult first = run_cnnc("run first.cnn --seed 5 --output-dir first", d.string());
            INFO(first.output);
            REQUIRE(first.status == 0);
            CommandResult second = run_cnnc("run second.cnn --seed 5 --output-dir second", d.string());
            INFO(second.output);
            REQUIRE(second.status == 0);
            CHECK(second.output.find("Optimizer state: ") != std::string::npos);
            CHECK(second.output.find("warning") == std::string::npos);
            const auto a = all_values(d / "whole/bar_net.weights.h5"), b = all_values(d / "second/bar_net.weights.h5");
            REQUIRE(a.count("optimizer/vars/2") == 1);
            CHECK(a.at("optimizer/vars/0") == std::vector<float>{8});  // 2 epochs of 4 batches
            CHECK(a == b);
        }
    }
}

TEST_CASE("Adam's state written by h5py in Keras' order loads into its slots: momentum and velocity interleaved per variable",
          "[weights][keras3][optimizer]") {
    need_h5py();
    TempDir dir;
    const fs::path d(dir.path()), path = d / "adam.weights.h5";
    // adam.py build(): self._momentums, self._velocities = add_optimizer_variables(vars, ["momentum", "velocity"]).
    write_flat(d, path, "adam", "[arr(2 + 2 * j + s, shapes[j]) for j in range(4) for s in range(2)]");
    Built b = build(kFlat);
    rt::Adam adam("adam", {0.01, {}, {}, {}, {}}, {0.9, 0.999, 1e-7, false});
    const rt::OptimizerLoad o = load(path, adam, *b.net);
    CHECK(o.loaded);
    CHECK(o.warning.empty());
    CHECK(adam.iterations == 7);
    CHECK(adam.learning_rate == 0.01);  // the statement's rate: the file's is the same at float32
    for (size_t j = 0; j < 4; ++j)
        for (size_t s = 0; s < 2; ++s) check_slot(adam, j, s, static_cast<int>(2 + 2 * j + s));
}

TEST_CASE("RMSprop's state written by h5py loads: velocities, then momentums, then average gradients", "[weights][keras3][optimizer]") {
    need_h5py();
    TempDir dir;
    const fs::path d(dir.path()), path = d / "rms.weights.h5";
    // rmsprop.py build(): velocities; momentums if momentum > 0; average_gradients if centered.
    write_flat(d, path, "rm_sprop", "[arr(2 + 4 * c + j, shapes[j]) for c in range(3) for j in range(4)]");
    Built b = build(kFlat);
    rt::RMSprop rms("rmsprop", {0.001, {}, {}, {}, {}}, {0.9, 0.5, 1e-7, true});
    const rt::OptimizerLoad o = load(path, rms, *b.net);
    CHECK(o.loaded);
    CHECK(rms.learning_rate == Approx(0.01));  // Keras assigns the saved rate
    for (size_t j = 0; j < 4; ++j) {
        check_slot(rms, j, 0, static_cast<int>(2 + j));       // velocity
        check_slot(rms, j, 2, static_cast<int>(2 + 4 + j));   // momentum
        check_slot(rms, j, 1, static_cast<int>(2 + 8 + j));   // average gradient
    }
}

TEST_CASE("Nadam's state loads with its u_product, which must agree with the step count", "[weights][keras3][optimizer]") {
    need_h5py();
    TempDir dir;
    const fs::path d(dir.path()), path = d / "nadam.weights.h5";
    // nadam.py: u_t = beta_1 (1 - 0.5 * 0.96^t); _u_product is u_1 ... u_t after t steps.
    const std::string u = "[np.float32(np.prod([0.9 * (1 - 0.5 * 0.96 ** t) for t in range(1, 8)]))]";
    write_flat(d, path, "nadam", "[arr(2 + 2 * j + s, shapes[j]) for j in range(4) for s in range(2)] + " + u);
    Built b = build(kFlat);
    rt::Nadam nadam("nadam", {0.01, {}, {}, {}, {}}, {0.9, 0.999, 1e-7});
    rt::OptimizerLoad o = load(path, nadam, *b.net);
    CHECK(o.loaded);
    CHECK(o.warning.empty());
    CHECK(nadam.iterations == 7);
    for (size_t j = 0; j < 4; ++j)
        for (size_t s = 0; s < 2; ++s) check_slot(nadam, j, s, static_cast<int>(2 + 2 * j + s));
    // The same file claiming 9 steps: its u_product is of 7, and cnnc says it computes its own.
    write_flat(d, path, "nadam", "[arr(2 + 2 * j + s, shapes[j]) for j in range(4) for s in range(2)] + " + u, 9);
    rt::Nadam again("nadam", {0.01, {}, {}, {}, {}}, {0.9, 0.999, 1e-7});
    o = load(path, again, *b.net);
    CHECK(o.loaded);
    CHECK_THAT(o.warning, Catch::Contains("optimizer variable 10 is") && Catch::Contains("after 9 steps; cnnc computes it from the step count"));
}

TEST_CASE("another optimizer's state is skipped with a warning, as Keras skips it, a slot of another shape is an error",
          "[weights][keras3][optimizer]") {
    need_h5py();
    TempDir dir;
    const fs::path d(dir.path()), path = d / "adam.weights.h5";
    write_flat(d, path, "adam", "[arr(2 + 2 * j + s, shapes[j]) for j in range(4) for s in range(2)]");
    Built b = build(kFlat);
    SECTION("named: Adamax has Adam's count, its name tells them apart") {
        rt::Adamax adamax("adamax", {0.01, {}, {}, {}, {}}, {0.9, 0.999, 1e-7});
        const rt::OptimizerLoad o = load(path, adamax, *b.net);
        CHECK_FALSE(o.loaded);
        CHECK(o.warning == path.string() + ": the saved optimizer is 'adam', the statement trains with 'adamax'; training starts from a "
                                           "fresh optimizer state, as Keras skips the optimizer's variables then");
        CHECK(adamax.iterations == 0);
    }
    SECTION("unnamed (Keras 3.0-3.5): the count differs") {
        write_flat(d, path, "", "[arr(2 + 2 * j + s, shapes[j]) for j in range(4) for s in range(2)]");
        rt::Sgd sgd("sgd", {0.01, {}, {}, {}, {}}, {0.9, false});
        const rt::OptimizerLoad o = load(path, sgd, *b.net);
        CHECK_FALSE(o.loaded);
        CHECK_THAT(o.warning, Catch::Contains("optimizer 'sgd' has 6 variables, the saved optimizer has 10"));
        CHECK(sgd.iterations == 0);
        for (const auto& s : sgd.slots) CHECK(s.at(0)[0] == 0);
    }
    SECTION("a slot of another shape") {
        write_flat(d, path, "adam", "[arr(2 + 2 * j + s, (5,) if j == 1 else shapes[j]) for j in range(4) for s in range(2)]");
        rt::Adam adam("adam", {0.01, {}, {}, {}, {}}, {0.9, 0.999, 1e-7, false});
        CHECK_THROWS_WITH(load(path, adam, *b.net),
                          path.string() + ": weight 'optimizer/vars/4' has shape (5,) in the file, but optimizer 'adam' variable 4 (a slot of "
                                          "dense/bias) is (3,)");
        CHECK(adam.iterations == 0);
    }
    SECTION("no optimizer group: fresh slots, nothing said") {
        rt::save_weights(path.string(), b.net->params(), nullptr, {b.net->keras_groups});
        rt::Adam adam("adam", {0.01, {}, {}, {}, {}}, {0.9, 0.999, 1e-7, false});
        const rt::OptimizerLoad o = load(path, adam, *b.net);
        CHECK_FALSE(o.loaded);
        CHECK(o.warning.empty());
    }
}

TEST_CASE("optimizer state round-trips exactly through .weights.h5", "[weights][keras3][optimizer]") {
    TempDir dir;
    const std::string path = (fs::path(dir.path()) / "rt.weights.h5").string();
    Built b = build(kFlat);
    auto check = [&](rt::Optimizer& trained, rt::Optimizer& fresh) {
        train_steps(*b.net, trained, 3, 11);
        rt::save_trained_weights(path, b.net->params(), b.net->keras_groups, &trained);
        const rt::OptimizerLoad o = load(path, fresh, *b.net);
        CHECK(o.loaded);
        CHECK(o.warning.empty());
        CHECK(fresh.iterations == trained.iterations);
        CHECK(fresh.learning_rate == trained.learning_rate);
        const rt::KerasSlots k = trained.keras_slots();
        REQUIRE(fresh.slots.size() == trained.slots.size());
        for (size_t j = 0; j < trained.slots.size(); ++j)
            for (const auto& call : k.calls)
                for (int s : call) {
                    INFO(trained.name() << " variable " << j << " slot " << s);
                    const rt::Tensor &x = trained.slots[j][static_cast<size_t>(s)], &y = fresh.slots[j][static_cast<size_t>(s)];
                    REQUIRE(x.shape() == y.shape());
                    for (int64_t i = 0; i < x.size(); ++i) REQUIRE(x[i] == y[i]);
                }
    };
    SECTION("adam with amsgrad") {
        rt::Adam a("adam", {0.003, {}, {}, {}, {}}, {0.9, 0.999, 1e-7, true}), f("adam", {0.003, {}, {}, {}, {}}, {0.9, 0.999, 1e-7, true});
        check(a, f);
    }
    SECTION("adamax") {
        rt::Adamax a("adamax", {0.003, {}, {}, {}, {}}, {0.9, 0.999, 1e-7}), f("adamax", {0.003, {}, {}, {}, {}}, {0.9, 0.999, 1e-7});
        check(a, f);
    }
    SECTION("adagrad") {
        rt::Adagrad a("adagrad", {0.003, {}, {}, {}, {}}, {0.1, 1e-7}), f("adagrad", {0.003, {}, {}, {}, {}}, {0.1, 1e-7});
        check(a, f);
    }
}
