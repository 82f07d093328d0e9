// Issue 17: a graph model's weights files as Keras writes them.
// - Keras 3's `.weights.h5` of a Functional: `layers` in map_graph's order (deepest first, ties by
//   the walk from the outputs), InputLayers among them, merge layers' empty `vars`, each `vars`
//   named; golden tests/golden/weights/graph_io.tree (its header cites the Keras lines).
// - Keras 2's `.h5`: a model's layers are keyed by name, and Keras' names are unique in a model
//   (auto_name numbers them in creation order), where cnnc numbers a block's layers within the
//   block. Two blocks' layers of one cnnc name are written and read under their Keras names.
#include <filesystem>
#include <fstream>

#include "EngineHelpers.h"
#include "KerasTree.h"
#include "TempDir.h"
#include "engine/LoadWeights.h"
#include "io/Weights.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

// Two inputs (meta declared first, image deeper), a residual Add, a Concatenate, two outputs.
const char* kGraph = R"(model graph_io {
    input meta(3)
    input image(8, 8, 1)
    from image
    Conv2D(4, 3, padding = same, activation = relu)
    residual { Conv2D(4, 3, padding = same) }
    GlobalAveragePooling2D() as seen
    from meta
    Dense(4, activation = relu)
    Concatenate(seen) as both
    Dense(2, activation = softmax) as kind
    from both
    Dense(1) as score
    output kind, score
})";

// Two calls of one block: cnnc names both blocks' layers conv2d and conv2d_1; Keras, building
// them with a helper function, conv2d ... conv2d_3.
const char* kTwice = R"(block pair(filters) {
    Conv2D(filters, 3, padding = same, activation = relu)
    Conv2D(filters, 3, padding = same)
}
model twice {
    input(6, 6, 1)
    pair(2)
    pair(3)
    Flatten()
    Dense(1)
})";

}  // namespace

TEST_CASE("a graph model's .weights.h5 has the tree Keras writes for its Functional", "[weights][keras3][graph]") {
    need_h5py();
    TempDir dir;
    const std::string path = (fs::path(dir.path()) / "graph_io.weights.h5").string();
    Built b = build(kGraph);
    rt::save_weights(path, b.net->params(), nullptr, {b.net->keras_groups});
    check_tree(path, "graph_io.tree");
}

TEST_CASE("a graph model's .weights.h5 written by h5py to Keras' tree loads variable by variable", "[weights][keras3][graph]") {
    need_h5py();
    TempDir dir;
    const std::string path = (fs::path(dir.path()) / "keras.weights.h5").string();
    write_golden("graph_io.tree", path);
    Built b = build(kGraph);
    engine::load_weights_into(b.model().layers, "", "", *b.net, rt::read_weights(path), path);
    const std::vector<std::string> order = golden_datasets("graph_io.tree");
    REQUIRE(b.net->params().size() == order.size());
    for (rt::Param* p : b.net->params()) {
        const auto k = std::find(order.begin(), order.end(), p->keras3_path) - order.begin();
        INFO(p->name << " at " << p->keras3_path);
        REQUIRE(static_cast<size_t>(k) < order.size());
        for (int64_t i = 0; i < p->value.size(); ++i) REQUIRE(p->value[i] == static_cast<float>(100 * k + i));
    }
    // The image branch's first convolution is conv2d (1 input channel), the meta branch's Dense is
    // dense and the outputs dense_1 (kind) and dense_2 (score), as Keras numbers them.
    CHECK(b.net->params().front()->value.shape() == rt::Dims{3, 3, 1, 4});
}

TEST_CASE("Keras 2 .h5: layers of one cnnc name in two blocks are written and read back under their unique Keras names",
          "[weights][keras2][graph]") {
    need_h5py();
    TempDir dir;
    const fs::path d(dir.path());
    const std::string path = (d / "twice.h5").string();
    Built b = build(kTwice);
    randomize(*b.net, 3);
    rt::save_weights(path, b.net->params(), nullptr, {b.net->keras_groups});
    CommandResult r = run_shell("/usr/bin/python3 -c \"import h5py,sys; f=h5py.File(sys.argv[1],'r'); "
                                "print([n.decode() for n in f.attrs['layer_names']]); print(list(f['conv2d_3'].attrs['weight_names']))\" " + path);
    REQUIRE(r.status == 0);
    CHECK(r.output == "['conv2d', 'conv2d_1', 'conv2d_2', 'conv2d_3', 'flatten', 'dense']\n[b'conv2d_3/kernel:0', b'conv2d_3/bias:0']\n");
    Built c = build(kTwice, 99);
    engine::load_weights_into(c.model().layers, "", "", *c.net, rt::read_weights(path), path);
    for (size_t k = 0; k < b.net->params().size(); ++k) {
        INFO(b.net->params()[k]->name);
        REQUIRE(c.net->params()[k]->value.shape() == b.net->params()[k]->value.shape());
        for (int64_t i = 0; i < b.net->params()[k]->value.size(); ++i) REQUIRE(c.net->params()[k]->value[i] == b.net->params()[k]->value[i]);
    }
}

TEST_CASE("Keras 2 .h5 written by h5py with Keras' names, one listed twice in layer_names, loads each layer's own weights",
          "[weights][keras2][graph]") {
    need_h5py();
    TempDir dir;
    const fs::path d(dir.path());
    const std::string path = (d / "keras.h5").string();
    // As Keras' save_weights_to_hdf5_group writes the helper-function model (legacy_h5_format.py
    // L206-235), with `conv2d_1` listed a second time: HDF5 has one group per name, so Keras'
    // loader by name (L503-520) loads that group again into the same layer; cnnc loads it once.
    std::ofstream(d / "w.py") << R"(import h5py, numpy as np, sys
layers = [("conv2d", [(3, 3, 1, 2), (2,)]), ("conv2d_1", [(3, 3, 2, 2), (2,)]), ("conv2d_2", [(3, 3, 2, 3), (3,)]),
          ("conv2d_3", [(3, 3, 3, 3), (3,)]), ("flatten", []), ("dense", [(108, 1), (1,)])]
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["layer_names"] = [n.encode() for n, _ in layers] + [b"conv2d_1"]
    f.attrs["backend"] = b"tensorflow"
    f.attrs["keras_version"] = b"2.15.0"
    k = 0
    for name, shapes in layers:
        g = f.create_group(name)
        names = ["%s/%s:0" % (name, w) for w in ["kernel", "bias"]][:len(shapes)]
        g.attrs["weight_names"] = [n.encode() for n in names]
        for n, s in zip(names, shapes):
            g.create_dataset(n, data=(100 * k + np.arange(int(np.prod(s)))).astype(np.float32).reshape(s))
            k += 1
)";
    REQUIRE(run_shell("/usr/bin/python3 " + (d / "w.py").string() + " " + path).status == 0);
    Built b = build(kTwice);
    engine::load_weights_into(b.model().layers, "", "", *b.net, rt::read_weights(path), path);
    int k = 0;
    for (rt::Param* p : b.net->params()) {
        INFO(p->name);
        for (int64_t i = 0; i < p->value.size(); ++i) REQUIRE(p->value[i] == static_cast<float>(100 * k + i));
        ++k;
    }
}
