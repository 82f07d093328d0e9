// Issue 9, items 13 and 23: weights files that declare more than they hold, arrays the model does
// not use, and NaN values. Only the arrays the model needs are read, each after its declared shape
// matched the model's; a NaN or infinite weight is an error naming the file and the variable.
#include <sys/resource.h>

#include <filesystem>
#include <fstream>

#if __has_include(<hdf5/serial/hdf5.h>)
#include <hdf5/serial/hdf5.h>  // Debian's libhdf5-dev
#else
#include <hdf5.h>
#endif

#include "Bars.h"
#include "EngineHelpers.h"
#include "Faults.h"
#include "Error.h"
#include "TempDir.h"
#include "engine/LoadWeights.h"
#include "io/Weights.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

// Writes a Keras 3 layout file with float datasets of the given declared shapes. Values are written
// only for small arrays (`values`, when given); big ones are chunked and never allocated, so the
// file stays a few KB whatever it declares.
struct H5Writer {
    hid_t file;
    explicit H5Writer(const std::string& path) { file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT); }
    ~H5Writer() { H5Fclose(file); }
    void add(const std::string& name, const std::vector<hsize_t>& dims, const std::vector<float>& values = {}) {
        hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
        H5Pset_create_intermediate_group(lcpl, 1);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        std::vector<hsize_t> chunk;
        for (hsize_t x : dims) chunk.push_back(std::min<hsize_t>(x, 1024));
        if (values.empty()) H5Pset_chunk(dcpl, static_cast<int>(dims.size()), chunk.data());
        hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
        hid_t d = H5Dcreate2(file, name.c_str(), H5T_IEEE_F32LE, space, lcpl, dcpl, H5P_DEFAULT);
        REQUIRE(d >= 0);
        if (!values.empty()) REQUIRE(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
        H5Dclose(d);
        H5Sclose(space);
        H5Pclose(dcpl);
        H5Pclose(lcpl);
    }
};

const char* kDense = "model m { input(4) Dense(3) }";

std::vector<float> ramp(size_t n) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = 0.25f * static_cast<float>(i);
    return v;
}

std::string load_error(Built& b, const std::string& path) {
    try {
        engine::load_weights_into(b.model().layers, "", "", *b.net, rt::read_weights(path), path);
    } catch (const rt::UserError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("faults: a weights file declaring a 2^20 x 2^20 array is refused by shape, nothing allocated", "[faults][weights]") {
    TempDir dir;
    const std::string path = dir / "huge.weights.h5";
    {
        H5Writer w(path);
        w.add("layers/dense/vars/0", {1u << 20, 1u << 20});
        w.add("layers/dense/vars/1", {3}, ramp(3));
    }
    CHECK(fs::file_size(path) < 100000);
    Built b = build(kDense);
    CHECK(load_error(b, path) == path + ": weight 'layers/dense/vars/0' has shape (1048576, 1048576) in the file, but dense/kernel is (4, 3)");
}

TEST_CASE("faults: arrays the model does not use are never read", "[faults][weights]") {
    TempDir dir;
    const std::string path = dir / "extra.weights.h5";
    {
        H5Writer w(path);
        w.add("layers/dense/vars/0", {4, 3}, ramp(12));
        w.add("layers/dense/vars/1", {3}, ramp(3));
        w.add("layers/unused/vars/0", {1u << 19, 1u << 10});  // 2 GiB of (fill) values if it were read
    }
    Built b = build(kDense);
    REQUIRE(load_error(b, path) == "no error");
    CHECK(b.net->params()[0]->value[11] == 2.75f);
    CHECK(b.net->params()[1]->value[2] == 0.5f);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    CHECK(ru.ru_maxrss < 1024 * 1024);  // KiB: well under the 2 GiB the unused array would cost
}

TEST_CASE("faults: a NaN or infinite weight is an error naming the file and the variable", "[faults][weights]") {
    TempDir dir;
    const std::string path = dir / "nan.weights.h5";
    std::vector<float> kernel = ramp(12);
    kernel[5] = NAN;
    {
        H5Writer w(path);
        w.add("layers/dense/vars/0", {4, 3}, kernel);
        w.add("layers/dense/vars/1", {3}, ramp(3));
    }
    Built b = build(kDense);
    CHECK(load_error(b, path) == path + ": weight 'layers/dense/vars/0' (for dense/kernel) holds NaN at index 5");
    const std::string inf = dir / "inf.weights.h5";
    {
        H5Writer w(inf);
        w.add("layers/dense/vars/0", {4, 3}, ramp(12));
        w.add("layers/dense/vars/1", {3}, {0, INFINITY, 0});
    }
    CHECK(load_error(b, inf) == inf + ": weight 'layers/dense/vars/1' (for dense/bias) holds an infinite value at index 1");
}

TEST_CASE("faults: cnnc evaluate with NaN weights exits 1 naming the weights file", "[faults][weights]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars_files(d, 32, 16, kModel);
    CommandResult trained = run_cnnc("run bars.cnn --epochs 1", d.string());
    REQUIRE(trained.status == 0);
    {  // one NaN in the trained Dense kernel
        hid_t f = H5Fopen((d / "bar_net.weights.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
        REQUIRE(f >= 0);
        hid_t ds = H5Dopen2(f, "layers/dense/vars/0", H5P_DEFAULT);
        REQUIRE(ds >= 0);
        std::vector<float> v(72 * 2);
        REQUIRE(H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
        v[7] = NAN;
        REQUIRE(H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
        H5Dclose(ds);
        H5Fclose(f);
    }
    CommandResult r = run_cnnc("evaluate bars.cnn --weights bar_net.weights.h5", d.string());
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("bar_net.weights.h5: weight 'layers/dense/vars/0' (for dense/kernel) holds NaN at index 7"));
    CHECK_THAT(r.output, !Catch::Contains("nan"));
}

TEST_CASE("faults: an evaluation whose loss is NaN exits 1 naming the weights it used", "[faults][weights]") {
    TempDir dir;
    fs::path d(dir.path());
    // Pixels of 200 times 1e37 overflow float: the forward pass computes inf - inf.
    std::string model = kModel;
    model.replace(model.find("rescale = 1/255"), 15, "rescale = 1e37");
    model.replace(model.find("train bar_net"), model.find("evaluate bar_net") - model.find("train bar_net"), "");
    model.replace(model.find("evaluate bar_net on bars.test"), 29, "evaluate bar_net on bars.test { loss = categorical_crossentropy }");
    write_bars_files(d, 16, 16, model);
    CommandResult r = run_cnnc("run bars.cnn", d.string());
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("error: evaluating bar_net on bars.test: the loss is NaN (weights: the model's initial weights)"));
}
