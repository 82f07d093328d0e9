// Weights files: Keras' HDF5 layout written by h5py loads into the matching block; cnnc's own
// checkpoints round-trip; ModelCheckpoint(save_best_only) keeps the epoch with the lowest
// val_loss; mismatches and missing files are errors that say what is wrong.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "EngineHelpers.h"
#include "Error.h"
#include "TempDir.h"
#include "engine/LoadWeights.h"
#include "io/Weights.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {
const char* kBlockModel = R"(
block base {
    Conv2D(2, 3, name = "c1")
    MaxPooling2D(2, name = "p1")
}
model m {
    input(6, 6, 1)
    base(weights = "pre.h5", trainable = false)
    Flatten()
    Dense(1, activation = sigmoid)
}
)";

bool have_h5py() { return std::system("/usr/bin/python3 -c 'import h5py' > /dev/null 2>&1") == 0; }
}  // namespace

TEST_CASE("a Keras-layout HDF5 file written by h5py loads into the matching block by layer name", "[weights]") {
    if (!have_h5py()) skip("python3-h5py is not installed (scripts/install-deps installs it)");
    TempDir dir;
    fs::path d(dir.path());
    // The layout of Keras' published application weights (e.g. VGG16 notop): layer_names at the
    // root, weight_names per layer group, kernel (k_h, k_w, C_in, F).
    std::string script = R"(
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["layer_names"] = np.array([b"input_1", b"c1", b"p1"])
    for name in ["input_1", "p1"]:
        f.create_group(name).attrs["weight_names"] = np.array([], dtype="S1")
    g = f.create_group("c1")
    g.attrs["weight_names"] = np.array([b"c1/kernel:0", b"c1/bias:0"])
    g.create_dataset("c1/kernel:0", data=np.arange(18, dtype=np.float32).reshape(3, 3, 1, 2))
    g.create_dataset("c1/bias:0", data=np.array([0.5, -0.5], dtype=np.float32))
)";
    std::ofstream(d / "write.py") << script;
    REQUIRE(std::system(("/usr/bin/python3 " + (d / "write.py").string() + " " + (d / "pre.h5").string()).c_str()) == 0);

    Built b = build(kBlockModel);
    engine::load_block_weights(b.model().layers, "", *b.net, "", [&](const std::string& p) { return (d / p).string(); });
    rt::Param* kernel = b.net->params().at(0);
    REQUIRE(kernel->name == "base/c1/kernel");
    for (int i = 0; i < 18; ++i) CHECK(kernel->value[i] == static_cast<float>(i));
    CHECK(b.net->params().at(1)->value[0] == 0.5f);
    CHECK_FALSE(kernel->trainable);
}

TEST_CASE("weights files: save and read back, atomically, errors name file, layer and shapes", "[weights]") {
    TempDir dir;
    fs::path d(dir.path());
    Built b = build("block two { Dense(3, name = \"h\") Dense(2, name = \"o\") } model m { input(4) Dense(4) two() }");
    rt::Rng rng(1);
    for (rt::Param* p : b.net->params()) fill_uniform(p->value.data(), p->value.size(), rng, -1, 1);
    std::string path = (d / "out" / "w.h5").string();  // Keras 2 layout (layer_names)
    rt::save_weights(path, b.net->params());
    rt::save_weights(path, b.net->params());  // replaces the file in place
    size_t files = 0;
    for (auto it = fs::directory_iterator(d / "out"); it != fs::directory_iterator(); ++it) ++files;
    CHECK(files == 1);  // no temporary left behind
    rt::WeightsFile f = rt::read_weights(path);
    CHECK(f.layer_order == std::vector<std::string>{"dense", "two"});
    CHECK(f.layers.at("two").names == std::vector<std::string>{"h/kernel:0", "h/bias:0", "o/kernel:0", "o/bias:0"});

    Built c = build("block two { Dense(3, name = \"h\") Dense(2, name = \"o\") } model m { input(4) Dense(4) two() }", 99);
    engine::load_weights_into(c.model().layers, "", "", *c.net, f, path);
    for (size_t i = 0; i < b.net->params().size(); ++i)
        for (int64_t k = 0; k < b.net->params()[i]->value.size(); ++k) REQUIRE(c.net->params()[i]->value[k] == b.net->params()[i]->value[k]);

    Built wrong = build("block two { Dense(3, name = \"h\") Dense(5, name = \"o\") } model m { input(4) Dense(4) two() }");
    try {
        engine::load_weights_into(wrong.model().layers, "", "", *wrong.net, f, path);
        FAIL("no error");
    } catch (const rt::UserError& e) {
        CHECK_THAT(e.what(), Catch::Contains("w.h5: weight 'o/kernel:0' has shape (3, 2) in the file, but two/o/kernel is (3, 5)"));
    }
    CHECK_THROWS_WITH(rt::read_weights((d / "none.h5").string()), Catch::Contains("none.h5: no such weights file"));
    std::ofstream(d / "junk.h5") << "not hdf5";
    CHECK_THROWS_WITH(rt::read_weights((d / "junk.h5").string()), Catch::Contains("junk.h5: not an HDF5 file"));
}

TEST_CASE("a .weights.h5 path gets Keras 3's layout (layers/<class>_<n>/vars/<i>) and reads back", "[weights]") {
    TempDir dir;
    fs::path d(dir.path());
    const char* code = "block two { Dense(3, name = \"h\") Dense(2, name = \"o\") } model m { input(4) Dense(4) Dropout(0.1) Dense(4) two() }";
    Built b = build(code);
    rt::Rng rng(3);
    for (rt::Param* p : b.net->params()) fill_uniform(p->value.data(), p->value.size(), rng, -1, 1);
    std::string path = (d / "m.weights.h5").string();
    rt::save_weights(path, b.net->params());
    rt::WeightsFile f = rt::read_weights(path);
    CHECK(f.keras3);
    // The block is a helper function in Keras: its layers are numbered in the model (docs/WEIGHTS.md).
    for (const char* k : {"layers/dense/vars/0", "layers/dense/vars/1", "layers/dense_1/vars/0", "layers/dense_2/vars/0", "layers/dense_3/vars/1"})
        CHECK(f.by_path.count(k) == 1);
    CHECK(f.by_path.at("layers/dense_3/vars/0").shape() == rt::Dims{3, 2});
    Built c = build(code, 77);
    engine::load_weights_into(c.model().layers, "", "", *c.net, f, path);
    for (size_t i = 0; i < b.net->params().size(); ++i)
        for (int64_t k = 0; k < b.net->params()[i]->value.size(); ++k) REQUIRE(c.net->params()[i]->value[k] == b.net->params()[i]->value[k]);
    if (have_h5py()) {  // the same paths as h5py (and so Keras) sees them
        std::string cmd = "/usr/bin/python3 -c \"import h5py,sys; f=h5py.File(sys.argv[1]); print(f['layers/dense_2/vars/0'].shape)\" " + path;
        FILE* p = popen(cmd.c_str(), "r");
        char buf[64] = {0};
        REQUIRE(p);
        CHECK(fgets(buf, sizeof buf, p) != nullptr);
        pclose(p);
        CHECK(std::string(buf) == "(4, 3)\n");
    }
}
