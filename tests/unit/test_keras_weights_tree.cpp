// Keras weights files as Keras itself writes them, checked by their whole HDF5 tree: groups,
// datasets (dtype, shape) and attributes (string kind, shape, value), against golden trees in
// tests/golden/weights/ derived from Keras' saving code (each golden cites the lines). The other
// direction loads files written to those trees by h5py (tests/reference/keras_tree.py), each
// array holding distinct values (dataset k of the tree: 100 * k + its flat index), so an array
// loaded into the wrong variable is seen.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "EngineHelpers.h"
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

const char* kFlat = "model flat { input(4) Dense(3, activation = relu) Dropout(0.5) Dense(2) }";

// Runs `dir`/w.py (h5py) to write `path` for kFlat's variables, variable k holding 100 * k + its
// flat index, and loads it: every value lands in its variable.
void check_flat_loads(const fs::path& dir, const std::string& path) {
    REQUIRE(run_shell("/usr/bin/python3 " + (dir / "w.py").string() + " " + path).status == 0);
    Built b = build(kFlat);
    engine::load_weights_into(b.model().layers, "", "", *b.net, rt::read_weights(path), path);
    int k = 0;
    for (rt::Param* p : b.net->params()) {
        INFO(p->name);
        for (int64_t i = 0; i < p->value.size(); ++i) REQUIRE(p->value[i] == static_cast<float>(100 * k + i));
        ++k;
    }
}

// The seed's transfer-learning model (models/cats_vs_dogs_vgg16.cnn, section 5.18 (b) and (c)).
const char* kTransfer = R"(import "vgg16"
augmentation flip_rotate_zoom {
    RandomFlip(horizontal)
    RandomRotation(0.1)
    RandomZoom(0.2)
}
model vgg_transfer {
    input(180, 180, 3)
    flip_rotate_zoom
    vgg16_preprocess()
    vgg16(weights = "weights/vgg16_notop.h5", trainable = false)
    Flatten()
    Dense(256)
    Dropout(0.5)
    Dense(1, activation = sigmoid)
}
)";

}  // namespace

TEST_CASE("a .weights.h5 has Keras 3's whole tree: root vars, weightless layers' groups, names, the optimizer's variables",
          "[weights][keras3]") {
    need_h5py();
    TempDir dir;
    const std::string path = (fs::path(dir.path()) / "flat.weights.h5").string();
    Built b = build(kFlat);
    randomize(*b.net, 5);
    // One Adam step from gradients g: m = (1 - beta_1) g, v = (1 - beta_2) g^2 (keras/src/optimizers/adam.py).
    rt::Adam adam("adam", {0.01, {}, {}, {}, {}}, {0.9, 0.999, 1e-7, false});
    rt::Rng rng(9);
    for (rt::Param* p : b.net->params()) {
        p->grad = rt::Tensor(p->value.shape());
        fill_uniform(p->grad.data(), p->grad.size(), rng, -1, 1);
    }
    adam.step(b.net->params());
    rt::save_trained_weights(path, b.net->params(), b.net->keras_groups, &adam);
    check_tree(path, "flat_adam.tree");

    rt::WeightsFile f = rt::read_weights(path);
    auto read = [&](const std::string& at) {
        const rt::StoredArray& a = f.by_path.at(at);
        rt::Tensor t(a.shape());
        a.read_into(t, at);
        return t;
    };
    CHECK(read("optimizer/vars/0")[0] == 1);  // iterations
    CHECK(read("optimizer/vars/1")[0] == Approx(0.01));
    const std::vector<rt::Param*> ps = b.net->params();
    for (size_t k = 0; k < ps.size(); ++k) {
        rt::Tensor w = read(ps[k]->keras3_path), m = read("optimizer/vars/" + std::to_string(2 + 2 * k)),
                   v = read("optimizer/vars/" + std::to_string(3 + 2 * k));
        INFO(ps[k]->name);
        for (int64_t i = 0; i < w.size(); ++i) {
            REQUIRE(w[i] == ps[k]->value[i]);
            const double g = ps[k]->grad[i];
            REQUIRE(m[i] == Approx(0.1 * g).margin(1e-7));
            REQUIRE(v[i] == Approx(0.001 * g * g).margin(1e-9));
        }
    }
}

TEST_CASE("the seed's transfer model writes Keras' tree: the base a Functional sub-model, augmentation a Sequential, "
          "preprocess_input no layer",
          "[weights][keras3][seed]") {
    need_h5py();
    TempDir dir;
    const std::string path = (fs::path(dir.path()) / "vgg_transfer.weights.h5").string();
    Built b = build(kTransfer);
    rt::save_weights(path, b.net->params(), nullptr, {b.net->keras_groups});
    check_tree(path, "vgg_transfer.tree");
}

TEST_CASE("a .weights.h5 Keras wrote for the seed's transfer model (a Functional, as the seed's code builds it) loads "
          "variable by variable",
          "[weights][keras3][seed]") {
    need_h5py();
    TempDir dir;
    const std::string path = (fs::path(dir.path()) / "keras.weights.h5").string();
    write_golden("vgg_transfer_functional.tree", path);
    Built b = build(kTransfer);
    rt::WeightsFile f = rt::read_weights(path);
    engine::load_weights_into(b.model().layers, "", "", *b.net, f, path);
    const std::vector<std::string> order = golden_datasets("vgg_transfer_functional.tree");
    for (rt::Param* p : b.net->params()) {
        const auto k = std::find(order.begin(), order.end(), p->keras3_path) - order.begin();
        INFO(p->name << " at " << p->keras3_path);
        REQUIRE(static_cast<size_t>(k) < order.size());
        for (int64_t i = 0; i < p->value.size(); i += 997) REQUIRE(p->value[i] == static_cast<float>(100 * k + i));
    }
}

TEST_CASE("a fine-tuning checkpoint in Keras 2's .h5 keeps each layer's trainable weights first, with scalar backend and "
          "keras_version",
          "[weights][keras2][seed]") {
    need_h5py();
    TempDir dir;
    const std::string path = (fs::path(dir.path()) / "finetune.h5").string();
    Built b = build(kTransfer);
    for (rt::Param* p : b.net->params())  // unfreeze = [block5_conv1, block5_conv2, block5_conv3]
        if (p->name.find("/block5_conv") != std::string::npos) p->trainable = true;
    randomize(*b.net, 7);
    rt::save_weights(path, b.net->params(), nullptr, {b.net->keras_groups});
    check_tree(path, "vgg_transfer_finetune.h5.tree");
    // And back, by layer name: every value where it was.
    Built c = build(kTransfer, 99);
    engine::load_weights_into(c.model().layers, "", "", *c.net, rt::read_weights(path), path);
    for (size_t k = 0; k < b.net->params().size(); ++k) {
        INFO(b.net->params()[k]->name);
        for (int64_t i = 0; i < b.net->params()[k]->value.size(); i += 101) REQUIRE(c.net->params()[k]->value[i] == b.net->params()[k]->value[i]);
    }
}

TEST_CASE("Keras 2's .h5 of a base with two BatchNormalizations puts both moving statistics after every trainable weight",
          "[weights][keras2][norm]") {
    need_h5py();
    TempDir dir;
    const std::string path = (fs::path(dir.path()) / "bn.h5").string();
    Built b = build(R"(block base { Dense(3) BatchNormalization() Dense(3) BatchNormalization() }
model m { input(4) base(weights = "base.h5") Dense(1) })");
    rt::save_weights(path, b.net->params(), nullptr, {b.net->keras_groups});
    // legacy_h5_format.py _legacy_weights: the nested model's trainable_weights (each layer's, in
    // order), then its non_trainable_weights (each BatchNormalization's moving mean and variance).
    CommandResult r = run_shell("/usr/bin/python3 -c \"import h5py,sys; f=h5py.File(sys.argv[1],'r'); "
                                "print([n.decode() for n in f['base'].attrs['weight_names']]); print(list(f.attrs['layer_names']))\" " +
                                path);
    REQUIRE(r.status == 0);
    CHECK(r.output ==
          "['dense/kernel:0', 'dense/bias:0', 'batch_normalization/gamma:0', 'batch_normalization/beta:0', 'dense_1/kernel:0', "
          "'dense_1/bias:0', 'batch_normalization_1/gamma:0', 'batch_normalization_1/beta:0', 'batch_normalization/moving_mean:0', "
          "'batch_normalization/moving_variance:0', 'batch_normalization_1/moving_mean:0', 'batch_normalization_1/moving_variance:0']\n"
          "[b'base', b'dense']\n");
}

TEST_CASE("Keras 2 .h5 attributes written as h5py 3 str (UTF-8) and split into layer_names0, layer_names1... load",
          "[weights][keras2]") {
    need_h5py();
    TempDir dir;
    const fs::path d(dir.path());
    const std::string path = (d / "split.h5").string();
    // As a converter writes with h5py 3 (str: variable-length UTF-8), and as Keras splits an
    // attribute too large for an object header (legacy_h5_format.py L317-327: np.array_split into
    // "<name>0", "<name>1"...).
    std::ofstream(d / "w.py") << R"(import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["layer_names0"] = ["dense"]
    f.attrs["layer_names1"] = ["dropout", "dense_1"]
    for k, (layer, shapes) in enumerate([("dense", [(4, 3), (3,)]), ("dense_1", [(3, 2), (2,)])]):
        g = f.create_group(layer)
        names = ["%s/kernel:0" % layer, "%s/bias:0" % layer]
        g.attrs["weight_names0"] = names[:1]
        g.attrs["weight_names1"] = names[1:]
        for j, (n, s) in enumerate(zip(names, shapes)):
            g.create_dataset(n, data=(100 * (2 * k + j) + np.arange(int(np.prod(s)))).astype(np.float32).reshape(s))
    f.create_group("dropout").attrs["weight_names"] = []
)";
    check_flat_loads(d, path);
}

TEST_CASE("tf.keras 2.13-2.15's .weights.h5 (_layer_checkpoint_dependencies) loads as Keras 3 remaps it", "[weights][keras3]") {
    need_h5py();
    TempDir dir;
    const fs::path d(dir.path());
    const std::string path = (d / "tf213.weights.h5").string();
    std::ofstream(d / "w.py") << R"(import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "w") as f:
    f.create_group("vars")
    f.create_group("_layer_checkpoint_dependencies/dropout/vars")
    for k, (layer, shapes) in enumerate([("dense", [(4, 3), (3,)]), ("dense_1", [(3, 2), (2,)])]):
        for j, s in enumerate(shapes):
            f["_layer_checkpoint_dependencies/%s/vars/%d" % (layer, j)] = (100 * (2 * k + j) + np.arange(int(np.prod(s)))).astype(np.float32).reshape(s)
)";
    check_flat_loads(d, path);
}

TEST_CASE("a file in no known layout is refused with the layouts tried", "[weights]") {
    need_h5py();
    TempDir dir;
    const std::string path = (fs::path(dir.path()) / "other.h5").string();
    REQUIRE(run_shell("/usr/bin/python3 -c \"import h5py,sys; h5py.File(sys.argv[1],'w').create_group('weights')\" " + path).status == 0);
    CHECK_THROWS_WITH(rt::read_weights(path),
                      Catch::Contains(path + ": not in a Keras HDF5 weights layout; tried Keras 2's .h5") &&
                          Catch::Contains("Keras 3's .weights.h5") && Catch::Contains("tf.keras 2.13-2.15's .weights.h5"));
}

TEST_CASE("RMSprop's state is saved in Keras' order: velocities, then momentums, then average gradients", "[weights][keras3]") {
    TempDir dir;
    const std::string path = (fs::path(dir.path()) / "rms.weights.h5").string();
    Built b = build(kFlat);
    randomize(*b.net, 5);
    // rmsprop.py build(): velocities; momentums when momentum > 0; average_gradients when centered.
    // One step from 0: velocity = (1 - rho) g^2, average = (1 - rho) g, momentum = lr g / sqrt(velocity - average^2 + eps).
    const double lr = 0.01, rho = 0.9, eps = 1e-7;
    rt::RMSprop rms("rmsprop", {lr, {}, {}, {}, {}}, {rho, 0.5, eps, true});
    rt::Rng rng(3);
    for (rt::Param* p : b.net->params()) {
        p->grad = rt::Tensor(p->value.shape());
        fill_uniform(p->grad.data(), p->grad.size(), rng, -1, 1);
    }
    rms.step(b.net->params());
    rt::save_trained_weights(path, b.net->params(), b.net->keras_groups, &rms);
    rt::WeightsFile f = rt::read_weights(path);
    const std::vector<rt::Param*> ps = b.net->params();
    CHECK(f.by_path.count("optimizer/vars/" + std::to_string(2 + 3 * ps.size() - 1)) == 1);
    CHECK(f.by_path.count("optimizer/vars/" + std::to_string(2 + 3 * ps.size())) == 0);
    for (size_t k = 0; k < ps.size(); ++k) {
        auto read = [&](size_t i) {
            const rt::StoredArray& a = f.by_path.at("optimizer/vars/" + std::to_string(i));
            rt::Tensor t(a.shape());
            a.read_into(t, "slot");
            return t;
        };
        rt::Tensor v = read(2 + k), m = read(2 + ps.size() + k), a = read(2 + 2 * ps.size() + k);
        INFO(ps[k]->name);
        for (int64_t i = 0; i < v.size(); ++i) {
            const double g = ps[k]->grad[i], vel = (1 - rho) * g * g, avg = (1 - rho) * g;
            REQUIRE(v[i] == Approx(vel).margin(1e-9));
            REQUIRE(a[i] == Approx(avg).margin(1e-8));
            REQUIRE(m[i] == Approx(lr * g / std::sqrt(vel - avg * avg + eps)).epsilon(1e-4));
        }
    }
}

TEST_CASE("a pretrained base's own .weights.h5 (the application saved alone) loads into its block", "[weights][keras3]") {
    need_h5py();
    TempDir dir;
    const fs::path d(dir.path());
    // keras.applications' Functional saved alone is the root of its file: layers/<class>/vars/<i>
    // (saving_lib.py _save_state), where the same base inside a model is layers/functional/layers/...
    std::ofstream(d / "w.py") << R"(import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "w") as f:
    f.create_group("vars")
    f.create_group("layers/input_layer/vars")
    for k, (layer, shapes) in enumerate([("dense", [(4, 3), (3,)]), ("dense_1", [(3, 2), (2,)])]):
        for j, s in enumerate(shapes):
            f["layers/%s/vars/%d" % (layer, j)] = (100 * (2 * k + j) + np.arange(int(np.prod(s)))).astype(np.float32).reshape(s)
)";
    REQUIRE(run_shell("/usr/bin/python3 " + (d / "w.py").string() + " " + (d / "base.weights.h5").string()).status == 0);
    Built b = build(R"(block base { Dense(3) Dense(2) }
model m { input(4) base(weights = "base.weights.h5") Dense(1) })");
    engine::load_block_weights(b.model().layers, "", *b.net, "", [&](const std::string& p) { return (d / p).string(); });
    const std::vector<rt::Param*> ps = b.net->params();
    REQUIRE(ps.at(0)->keras3_path == "layers/functional/layers/dense/vars/0");
    for (int k = 0; k < 4; ++k) {
        INFO(ps[k]->name);
        for (int64_t i = 0; i < ps[k]->value.size(); ++i) REQUIRE(ps[k]->value[i] == static_cast<float>(100 * k + i));
    }
}

TEST_CASE("a full-model .h5 (model.save) of tf.keras 2 and of Keras 3 loads from model_weights/", "[weights][keras2]") {
    need_h5py();
    TempDir dir;
    const fs::path d(dir.path());
    // legacy_h5_format.py save_model_to_hdf5 (master L28-70): root `model_config`, `keras_version`,
    // `backend`; the weights under `model_weights` as save_weights_to_hdf5_group writes them
    // (L206-235: Keras 3 names a weight by its path, "dense/kernel", and adds the group
    // `top_level_model_weights`; tf.keras 2 writes "dense/kernel:0"); the optimizer's under
    // `optimizer_weights` (L257-271).
    for (const char* suffix : {":0", ""}) {
        SECTION(*suffix ? "tf.keras 2" : "Keras 3") {
            std::ofstream(d / "w.py") << R"(import h5py, numpy as np, sys
suffix = ")" << suffix << R"("
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["model_config"] = b'{"class_name": "Sequential"}'
    f.attrs["keras_version"] = b"3.6.0"
    f.attrs["backend"] = b"tensorflow"
    g = f.create_group("model_weights")
    g.attrs["layer_names"] = [b"dense", b"dropout", b"dense_1"]
    for k, (layer, shapes) in enumerate([("dense", [(4, 3), (3,)]), ("dense_1", [(3, 2), (2,)])]):
        lg = g.create_group(layer)
        names = ["%s/kernel%s" % (layer, suffix), "%s/bias%s" % (layer, suffix)]
        lg.attrs["weight_names"] = [n.encode() for n in names]
        for j, (n, s) in enumerate(zip(names, shapes)):
            lg.create_dataset(n, data=(100 * (2 * k + j) + np.arange(int(np.prod(s)))).astype(np.float32).reshape(s))
    g.create_group("dropout").attrs["weight_names"] = np.asarray([])
    if not suffix:
        g.create_group("top_level_model_weights").attrs["weight_names"] = np.asarray([])
    f.create_group("optimizer_weights").attrs["weight_names"] = [b"iteration"]
)";
            check_flat_loads(d, (d / "full.h5").string());
        }
    }
}
