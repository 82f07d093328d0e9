// BatchNormalization through the whole tool: its moving statistics are weights in Keras' files
// (gamma, beta, moving_mean, moving_variance, in that order, in both layouts), they are saved in
// the training state so an interrupted run resumes to the same result, and a native executable
// trains, evaluates and predicts a BatchNormalization model as `cnnc run` does.
#include <filesystem>
#include <fstream>

#include "Bars.h"
#include "EngineHelpers.h"
#include "Faults.h"
#include "TempDir.h"
#include "engine/LoadWeights.h"
#include "io/Weights.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

// The bars model with Keras' conv → batch norm → relu stem.
std::string bn_bars_model() {
    std::string model = kModel;
    const std::string conv = "Conv2D(8, 3, activation = relu)";
    model.replace(model.find(conv), conv.size(), "Conv2D(8, 3, use_bias = false)\n    BatchNormalization(momentum = 0.9)\n    Activation(relu)");
    return model;
}

}  // namespace

TEST_CASE("BatchNormalization's weights in Keras' files: gamma, beta, moving_mean, moving_variance", "[normalization][weights]") {
    TempDir dir;
    fs::path d(dir.path());
    Built b = build("model m { input(4, 3) BatchNormalization(name = \"bn\") Dense(2) }");
    std::vector<rt::Param*> ps = b.net->params();
    REQUIRE(ps.size() == 6);
    for (size_t i = 0; i < 4; ++i) ps[i]->value.fill(static_cast<float>(i + 1));  // 1: gamma ... 4: moving_variance
    CHECK(ps[0]->trainable);
    CHECK_FALSE(ps[2]->trainable);
    CHECK(ps[2]->state);
    for (const char* file : {"m.h5", "m.weights.h5"}) {
        const std::string path = (d / file).string();
        rt::save_weights(path, ps);
        rt::WeightsFile f = rt::read_weights(path);
        Built c = build("model m { input(4, 3) BatchNormalization(name = \"bn\") Dense(2) }", 9);
        engine::load_weights_into(c.model().layers, "", "", *c.net, f, path);
        for (size_t i = 0; i < 4; ++i) CHECK(c.net->params()[i]->value[0] == static_cast<float>(i + 1));
    }
    if (std::system("/usr/bin/python3 -c 'import h5py' > /dev/null 2>&1") != 0) skip("h5py is missing (python3-h5py)");
    // As h5py (and so Keras) reads them: the Keras 2 layer's weight_names in order, and Keras 3's vars/0..3.
    CommandResult r = run_shell("/usr/bin/python3 -c \"import h5py,sys; f=h5py.File(sys.argv[1]); "
                                "print([n.decode() if isinstance(n, bytes) else n for n in f['bn'].attrs['weight_names']]); "
                                "g=h5py.File(sys.argv[2]); print([float(g['layers/batch_normalization/vars/%d' % i][0]) for i in range(4)])\" '" +
                                (d / "m.h5").string() + "' '" + (d / "m.weights.h5").string() + "'");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("['bn/gamma:0', 'bn/beta:0', 'bn/moving_mean:0', 'bn/moving_variance:0']"));
    CHECK_THAT(r.output, Catch::Contains("[1.0, 2.0, 3.0, 4.0]"));
}

TEST_CASE("a BatchNormalization model interrupted after epoch 2 resumes to the uninterrupted result, moving statistics included",
          "[normalization][faults][resume]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars_files(d, 64, 32, bn_bars_model());
    CommandResult whole = run_cnnc("run bars.cnn --seed 5", d.string());
    INFO(whole.output);
    REQUIRE(whole.status == 0);
    const std::string history = slurp(d / "bar_net_history.csv");
    const auto weights = weight_values(d / "bar_net.weights.h5");
    const std::string eval = whole.output.substr(whole.output.rfind("bar_net on bars.test"));
    REQUIRE(weights.size() == 7);  // kernel; gamma, beta, moving_mean, moving_variance; Dense's two
    CommandResult stopped = run_cnnc("run bars.cnn --seed 5", d.string(), "CNNC_INTERRUPT_AFTER_EPOCH=2");
    REQUIRE(stopped.status == 1);
    CommandResult resumed = run_cnnc("run bars.cnn --seed 5 --resume", d.string());
    INFO(resumed.output);
    REQUIRE(resumed.status == 0);
    CHECK_THAT(resumed.output, Catch::Contains("Resuming after epoch 2"));
    CHECK(slurp(d / "bar_net_history.csv") == history);
    CHECK(weight_values(d / "bar_net.weights.h5") == weights);
    CHECK(resumed.output.substr(resumed.output.rfind("bar_net on bars.test")) == eval);
}

TEST_CASE("cnnc build: an executable trains, evaluates and predicts a BatchNormalization model as cnnc run does", "[normalization][build][cli]") {
    TempDir dir;
    fs::path d = dir.path();
    write_bars_problem(d);
    std::ofstream(d / "bars.cnn") << bn_bars_model();
    const std::string env = "CNNC_CACHE_DIR='" + (d / "cache").string() + "'";
    CommandResult b = run_cnnc("build bars.cnn -o bars_exe", d.string(), env);
    INFO(b.output);
    REQUIRE(b.status == 0);
    CommandResult t1 = run_shell("cd '" + d.string() + "' && ./bars_exe train --seed 5 --output-dir exe_out");
    INFO(t1.output);
    REQUIRE(t1.status == 0);
    CommandResult t2 = run_cnnc("run bars.cnn --seed 5 --output-dir run_out", d.string(), env);
    INFO(t2.output);
    REQUIRE(t2.status == 0);
    check_close(losses(d / "exe_out" / "bar_net_history.csv"), losses(d / "run_out" / "bar_net_history.csv"), 1e-6);
    // Evaluation (BatchNormalization folded into the convolution) from the saved weights gives
    // what the run printed, and learns the bars.
    const std::string weights = (d / "exe_out" / "bar_net.weights.h5").string();
    CommandResult e = run_shell("cd '" + d.string() + "' && ./bars_exe evaluate --weights '" + weights + "'");
    INFO(e.output);
    REQUIRE(e.status == 0);
    const double trained = metric_on_line(t1.output, "bar_net on bars.test: ", "accuracy");
    CHECK(metric_on_line(e.output, "bar_net on bars.test: ", "accuracy") == trained);
    CHECK(metric_on_line(e.output, "bar_net on bars.test: ", "loss") == Approx(metric_on_line(t1.output, "bar_net on bars.test: ", "loss")).epsilon(1e-5));
    CHECK(trained >= 0.9);
}
