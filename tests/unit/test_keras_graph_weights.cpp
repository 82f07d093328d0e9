// Keras-layout weights files for graph models, written by h5py in exactly the layouts Keras
// writes (the published files cannot be downloaded here):
// - Keras 2's application files (resnet50_weights_tf_dim_ordering_tf_kernels.h5 and kin): the root
//   attribute `layer_names` lists every layer, weightless ones too; each layer's group has
//   `weight_names`, BatchNormalization's in the order gamma, beta, moving_mean, moving_variance.
//   They load into a block by layer name.
// - Keras 3's `.weights.h5` of a functional model: each layer's variables at
//   layers/<class name>[_<n>]/vars/<i>, numbered per class in the model's layer order.
// Every array holds distinct values (array k: 100 * k + its flat index), so an array loaded into the
// wrong weight, or transposed, is seen.
#include <filesystem>
#include <fstream>

#include "EngineHelpers.h"
#include "TempDir.h"
#include "engine/LoadWeights.h"
#include "io/Weights.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

bool have_h5py() { return std::system("/usr/bin/python3 -c 'import h5py' > /dev/null 2>&1") == 0; }

// Runs a Python script (h5py, numpy) with the output path as its argument.
void write_with_h5py(const fs::path& dir, const std::string& script, const fs::path& out) {
    std::ofstream(dir / "write.py") << "import h5py, numpy as np, sys\n"
                                       "def arr(k, shape):\n"
                                       "    return (100 * k + np.arange(int(np.prod(shape)))).astype(np.float32).reshape(shape)\n"
                                    << script;
    REQUIRE(std::system(("/usr/bin/python3 " + (dir / "write.py").string() + " " + out.string()).c_str()) == 0);
}

// Builds the network, or skips when a layer's ops are not in this tree yet (BatchNormalization's
// lowering throws std::logic_error until they are).
Built build_or_skip(const std::string& code) {
    try {
        return build(code);
    } catch (const std::logic_error& e) {
        skip(std::string("a layer's ops are missing: ") + e.what());
    }
}

rt::Param& param(rt::Network& net, const std::string& name) {
    for (rt::Param* p : net.params())
        if (p->name == name) return *p;
    FAIL("no weight " << name);
    std::abort();
}

// The weight holds array k of the file: 100 * k + i at flat index i.
void check_holds(rt::Network& net, const std::string& name, int k) {
    rt::Param& p = param(net, name);
    INFO(name);
    REQUIRE(p.value.size() > 0);
    for (int64_t i = 0; i < p.value.size(); ++i) REQUIRE(p.value[i] == static_cast<float>(100 * k + i));
}

// A residual stage named as keras.applications names ResNet50's, inside a block as an application
// is used; `bn` adds its BatchNormalization layers.
std::string resnet_like(bool bn) {
    std::string norm = bn ? "BatchNormalization(epsilon = 1.001e-5, name = \"{n}_bn\")" : "";
    return R"(
block unit(n, filters, stride = 1) {
    Conv2D(filters, 1, strides = stride, name = "{n}_conv")
    )" + norm + R"(
}
block app {
    ZeroPadding2D(1, name = "conv1_pad")
    unit("conv1", 4, stride = 2)
    Activation(relu, name = "conv1_relu")
    Add(name = "conv2_block1_add") {
        branch { unit("conv2_block1_0", 8) }
        branch { unit("conv2_block1_1", 2)  Activation(relu, name = "conv2_block1_1_relu")  unit("conv2_block1_3", 8) }
    }
    GlobalAveragePooling2D(name = "avg_pool")
    Dense(3, name = "predictions")
}
model m {
    input(6, 6, 3)
    app(weights = "app.h5")
}
)";
}

// The Keras 2 application layout for resnet_like(bn): layer_names in Keras' order (weightless
// layers listed with empty weight_names), arrays numbered in the order the test checks them.
std::string keras2_app_script(bool bn) {
    return std::string("bn = ") + (bn ? "True" : "False") + R"(
layers = [("input_1", []), ("conv1_pad", [])]
k = 0
def conv(name, cin, cout):
    global k
    out = [(name + "_conv", [("kernel", (1, 1, cin, cout), k), ("bias", (cout,), k + 1)])]
    k += 2
    if bn:
        out.append((name + "_bn", [(w, (cout,), k + i) for i, w in enumerate(["gamma", "beta", "moving_mean", "moving_variance"])]))
        k += 4
    return out
layers += conv("conv1", 3, 4) + [("conv1_relu", [])]
layers += conv("conv2_block1_0", 4, 8) + conv("conv2_block1_1", 4, 2) + [("conv2_block1_1_relu", [])] + conv("conv2_block1_3", 2, 8)
layers += [("conv2_block1_add", []), ("avg_pool", []), ("predictions", [("kernel", (8, 3), k), ("bias", (3,), k + 1)])]
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["layer_names"] = np.array([n.encode() for n, _ in layers])
    f.attrs["backend"] = b"tensorflow"
    f.attrs["keras_version"] = b"2.2.4"
    for name, weights in layers:
        g = f.create_group(name)
        g.attrs["weight_names"] = np.array([("%s/%s:0" % (name, w)).encode() for w, _, _ in weights], dtype="S64")
        for w, shape, index in weights:
            g.create_dataset("%s/%s:0" % (name, w), data=arr(index, shape))
)";
}

void check_keras2_app(bool bn) {
    if (!have_h5py()) skip("python3-h5py is not installed (scripts/install-deps installs it)");
    TempDir dir;
    fs::path d(dir.path());
    write_with_h5py(d, keras2_app_script(bn), d / "app.h5");
    Built b = bn ? build_or_skip(resnet_like(true)) : build(resnet_like(false));
    engine::load_block_weights(b.model().layers, "", *b.net, "", [&](const std::string& p) { return (d / p).string(); });
    // Each unit is a nested block (app/unit_1/conv2_block1_0_conv/kernel); its layers load by their
    // own (Keras) names, whatever the blocks around them are called.
    int k = 0;
    for (const char* unit : {"conv1", "conv2_block1_0", "conv2_block1_1", "conv2_block1_3"}) {
        std::vector<rt::Param*> mine;
        for (rt::Param* p : b.net->params())
            if (p->name.find(std::string("/") + unit + "_") != std::string::npos) mine.push_back(p);
        REQUIRE(mine.size() == (bn ? 6u : 2u));
        for (rt::Param* p : mine) check_holds(*b.net, p->name, k++);
    }
    check_holds(*b.net, "app/predictions/kernel", k);
    check_holds(*b.net, "app/predictions/bias", k + 1);
}

}  // namespace

TEST_CASE("a Keras 2 application-layout file loads into a graph block by layer name", "[weights][graphs]") {
    check_keras2_app(false);
}

TEST_CASE("a Keras 2 application-layout file with BatchNormalization: gamma, beta, moving mean and variance land in order",
          "[weights][graphs][norm]") {
    check_keras2_app(true);
}

namespace {

// A functional model as keras.Model(inputs, outputs) orders its layers (by depth from the input,
// which here is also the order written): conv2d (named `a`), [batch_normalization], activation,
// conv2d_1, add, global_average_pooling2d, dense.
std::string functional(bool bn) {
    return std::string(R"(
model m {
    input(6, 6, 3)
    Conv2D(4, 3, padding = same) as a
    )") + (bn ? "BatchNormalization()" : "") + R"(
    Activation(relu)
    Conv2D(4, 3, padding = same)
    Add(a)
    GlobalAveragePooling2D()
    Dense(2)
}
)";
}

// Keras 3's `.weights.h5` for functional(bn): every layer (the input layer and weightless ones too)
// has a group layers/<name>/vars holding its variables 0, 1, ...; the model has `vars` and the file
// an `optimizer` group, both empty before training.
std::string keras3_script(bool bn) {
    return std::string("bn = ") + (bn ? "True" : "False") + R"(
layers = [("input_layer", []), ("conv2d", [(3, 3, 3, 4), (4,)])]
if bn:
    layers.append(("batch_normalization", [(4,), (4,), (4,), (4,)]))  # gamma, beta, moving_mean, moving_variance
layers += [("activation", []), ("conv2d_1", [(3, 3, 4, 4), (4,)]), ("add", []), ("global_average_pooling2d", []),
           ("dense", [(4, 2), (2,)])]
with h5py.File(sys.argv[1], "w") as f:
    f.create_group("vars")
    f.create_group("optimizer/vars")
    k = 0
    for name, shapes in layers:
        g = f.create_group("layers/%s/vars" % name)
        for i, shape in enumerate(shapes):
            g.create_dataset(str(i), data=arr(k, shape))
            k += 1
)";
}

void check_keras3_functional(bool bn) {
    if (!have_h5py()) skip("python3-h5py is not installed (scripts/install-deps installs it)");
    TempDir dir;
    fs::path d(dir.path());
    fs::path file = d / "m.weights.h5";
    write_with_h5py(d, keras3_script(bn), file);
    Built b = bn ? build_or_skip(functional(true)) : build(functional(false));
    rt::WeightsFile f = rt::read_weights(file.string());
    REQUIRE(f.keras3);
    engine::load_weights_into(b.model().layers, "", "", *b.net, f, file.string());
    int k = 0;
    for (const char* w : {"conv2d/kernel", "conv2d/bias"}) check_holds(*b.net, w, k++);
    if (bn) {
        std::vector<rt::Param*> norm;
        for (rt::Param* p : b.net->params())
            if (p->name.rfind("batch_normalization/", 0) == 0) norm.push_back(p);
        REQUIRE(norm.size() == 4);  // gamma, beta, moving_mean, moving_variance, in Keras' order
        for (rt::Param* p : norm) check_holds(*b.net, p->name, k++);
    }
    for (const char* w : {"conv2d_1/kernel", "conv2d_1/bias", "dense/kernel", "dense/bias"}) check_holds(*b.net, w, k++);
}

}  // namespace

TEST_CASE("Keras 3's .weights.h5 of a functional model loads layer by layer", "[weights][graphs]") {
    check_keras3_functional(false);
}

TEST_CASE("Keras 3's .weights.h5 of a functional model with BatchNormalization loads its four variables in order",
          "[weights][graphs][norm]") {
    check_keras3_functional(true);
}
