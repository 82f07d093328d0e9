// Models with several inputs and outputs: a loss per output with loss weights (Keras 3's
// compile(loss = {...}, loss_weights = {...}, metrics = {...})), data keyed by input and output name
// (npy(x = {...}, y = {...})), Keras 3's history keys, resume. The loss is checked against Keras'
// formulas written out here, the gradient of the weighted total against finite differences.
#include <cmath>
#include <filesystem>
#include <fstream>

#include "Faults.h"
#include "GradientCheck.h"
#include "TempDir.h"
#include "TestData.h"
#include "train/Outputs.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

const char* kTwoIo = R"(
model two_io {
    input image(6, 6, 1)
    input meta(3)
    from image
    Conv2D(2, 3, activation = tanh)
    Flatten() as seen
    from meta
    Dense(4, activation = tanh)
    Concatenate(seen) as both
    Dense(3, activation = softmax) as kind
    from both
    Dense(2) as score
    output kind, score
}
)";

rt::OutputLoss output_loss(const std::string& output, const std::string& loss, double weight, const std::string& activation) {
    rt::OutputLoss o;
    o.name = output;
    o.loss = make_loss({loss});
    o.weight = weight;
    o.activation = activation;
    return o;
}

// A batch of 5 through two_io: random weights, inputs and targets (class ids for kind, floats for score).
struct Step {
    Built b = build(kTwoIo, 3);
    rt::Network& net = *b.net;
    int64_t n = 5;
    rt::Tensor image{{5, 6, 6, 1}}, meta{{5, 3}}, kind{{5, 1}}, score{{5, 2}};
    std::vector<rt::OutputLoss> outs = {output_loss("kind", "sparse_categorical_crossentropy", 1.0, "softmax"),
                                        output_loss("score", "mse", 0.3, "linear")};
    rt::StepInfo s{true, 1, 1};

    Step() {
        rt::Rng rng(11);
        net.prepare(n, true);
        for (rt::Param* w : net.params()) fill_uniform(w->value.data(), w->value.size(), rng, -0.8, 0.8);
        fill_uniform(image.data(), image.size(), rng, -1, 1);
        fill_uniform(meta.data(), meta.size(), rng, -1, 1);
        fill_uniform(score.data(), score.size(), rng, -1, 1);
        for (int64_t i = 0; i < n; ++i) kind[i] = static_cast<float>(i % 3);
    }
    std::vector<rt::View> forward() { return net.forward_all({image.view(), meta.view()}, s); }
    double loss(std::vector<rt::Tensor>* grads = nullptr, std::vector<double>* sums = nullptr) {
        std::vector<double> local(2, 0.0);
        std::vector<bool> logits = {grads && net.output_owns_activation(0) && rt::fuses_with(outs[0].loss, "softmax"), false};
        return rt::batch_loss(outs, forward(), {kind.view(), score.view()}, grads, logits, sums ? *sums : local);
    }
};

}  // namespace

TEST_CASE("multi-output: the loss of a step is the weighted sum of each output's Keras loss", "[multi_io]") {
    Step st;
    std::vector<double> sums(2, 0.0);
    const double total = st.loss(nullptr, &sums);
    std::vector<rt::View> out = st.forward();
    // Keras: sparse_categorical_crossentropy = mean_i -log(clip(p[i, y_i], 1e-7, 1 - 1e-7));
    // mean_squared_error = mean_i mean_j (o_ij - t_ij)^2.
    double ce = 0, mse = 0;
    for (int64_t i = 0; i < st.n; ++i) {
        double p = out[0][i * 3 + static_cast<int64_t>(st.kind[i])];
        ce += -std::log(std::min(std::max(p, 1e-7), 1 - 1e-7));
        for (int64_t j = 0; j < 2; ++j) mse += std::pow(double(out[1][i * 2 + j]) - st.score[i * 2 + j], 2) / 2;
    }
    ce /= st.n, mse /= st.n;
    CHECK(total == Approx(1.0 * ce + 0.3 * mse).epsilon(1e-5));
    // The columns: each output's own loss (unweighted) times the batch size.
    CHECK(sums[0] == Approx(ce * st.n).epsilon(1e-5));
    CHECK(sums[1] == Approx(mse * st.n).epsilon(1e-5));
    CHECK(rt::column_names(st.outs) == std::vector<std::string>{"kind_loss", "score_loss"});
}

TEST_CASE("multi-output: the gradient of the weighted total matches finite differences", "[multi_io][gradients]") {
    for (double w : {1.0, 0.3, 4.0}) {
        DYNAMIC_SECTION("score weighs " << w) {
            Step st;
            st.outs[1].weight = w;
            std::vector<rt::Tensor> grads(2);
            st.loss(&grads);
            std::vector<rt::View> d = {grads[0].view(), grads[1].view()};
            std::vector<bool> logits = {st.net.output_owns_activation(0), false};
            st.net.backward_all(d, logits, st.s);
            rt::Rng rng(5);
            for (rt::Param* p : st.net.params())
                check_gradient(p->grad, p->value, [&] { return st.loss(); }, rng, p->name);  // smooth (tanh, softmax): the layer step
        }
    }
}

// The weighted total's gradient is linear in the weights: with weights (a, b) every parameter's
// gradient is a times the kind loss's alone plus b times the score loss's alone.
TEST_CASE("multi-output: each output's gradient is scaled by its loss weight", "[multi_io][gradients]") {
    auto grads_for = [](double a, double b) {
        Step st;
        st.outs[0].weight = a, st.outs[1].weight = b;
        std::vector<rt::Tensor> g(2);
        st.loss(&g);
        st.net.backward_all({g[0].view(), g[1].view()}, {st.net.output_owns_activation(0), false}, st.s);
        std::vector<rt::Tensor> out;
        for (rt::Param* p : st.net.params()) out.push_back(p->grad);
        return out;
    };
    auto kind = grads_for(1, 0), score = grads_for(0, 1), both = grads_for(2.5, 0.3);
    for (size_t p = 0; p < both.size(); ++p)
        for (int64_t i = 0; i < both[p].size(); ++i)
            CHECK(both[p][i] == Approx(2.5 * kind[p][i] + 0.3 * score[p][i]).margin(1e-6));
}

TEST_CASE("multi-output: losses, weights and metrics per output are checked and reported with Keras 3's keys", "[multi_io][check]") {
    auto c = compile(std::string(kTwoIo) + R"(
dataset d {
    train = npy(x = {image = "i.npy", meta = "m.npy"}, y = {kind = "k.npy", score = "s.npy"})
    validation = npy(x = {image = "i.npy", meta = "m.npy"}, y = {kind = "k.npy", score = "s.npy"})
}
train two_io on d.train {
    validation = d.validation
    loss = {kind = sparse_categorical_crossentropy, score = mse}
    loss_weights = [1, 0.5]
    metrics = {kind = [accuracy], score = [mae]}
}
)");
    require_ok(*c);
    const TrainSpec& t = c->program.trains.at(0);
    REQUIRE(t.outputs.size() == 2);
    CHECK(t.outputs[0].output == "kind");
    CHECK(t.outputs[0].loss->name == "sparse_categorical_crossentropy");
    CHECK(t.outputs[1].weight == 0.5);
    CHECK(t.outputs[1].metrics == std::vector<std::string>{"mae"});
    CHECK(t.reported() == std::vector<std::string>{"loss", "kind_loss", "score_loss", "kind_accuracy", "score_mae", "val_loss",
                                                   "val_kind_loss", "val_score_loss", "val_kind_accuracy", "val_score_mae"});

    // One loss for every output, a plain list of metrics for every output.
    auto one = compile(std::string(kTwoIo) + R"(
dataset d { train = npy(x = {image = "i.npy", meta = "m.npy"}, y = {kind = "k.npy", score = "s.npy"}) }
train two_io on d.train { loss = mse  metrics = [mae] }
)");
    require_ok(*one);
    CHECK(one->program.trains.at(0).reported() == std::vector<std::string>{"loss", "kind_loss", "score_loss", "kind_mae", "score_mae"});
}

namespace {

std::string f32(const std::vector<float>& v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)); }

// Generated data for two_io: the class is the sign pattern of the image's mean and meta[0]; the
// score targets are two linear functions of meta.
void write_two_io_files(const fs::path& d, int n, const std::string& train_fields) {
    rt::Rng rng(3);
    std::vector<float> image, meta, score;
    std::vector<float> kind;
    for (int i = 0; i < n; ++i) {
        double mean = 0;
        for (int k = 0; k < 36; ++k) image.push_back(static_cast<float>(rng.uniform(-1, 1))), mean += image.back() / 36;
        for (int k = 0; k < 3; ++k) meta.push_back(static_cast<float>(rng.uniform(-1, 1)));
        const float* m = &meta[meta.size() - 3];
        kind.push_back(static_cast<float>((mean > 0 ? 1 : 0) + (m[0] > 0 ? 1 : 0)));
        score.push_back(m[0] + 0.5f * m[1]);
        score.push_back(m[2] - m[1]);
    }
    const std::string N = std::to_string(n);
    write_bytes((d / "image.npy").string(), npy_bytes("<f4", "(" + N + ", 6, 6, 1)", f32(image)));
    write_bytes((d / "meta.npy").string(), npy_bytes("<f4", "(" + N + ", 3)", f32(meta)));
    write_bytes((d / "kind.npy").string(), npy_bytes("<f4", "(" + N + ",)", f32(kind)));
    write_bytes((d / "score.npy").string(), npy_bytes("<f4", "(" + N + ", 2)", f32(score)));
    std::ofstream(d / "two_io.cnn") << kTwoIo << R"(
dataset parts {
    train = npy(x = {image = "image.npy", meta = "meta.npy"}, y = {kind = "kind.npy", score = "score.npy"},
                validation_split = 0.25, subset = training, seed = 1)
    validation = npy(x = {image = "image.npy", meta = "meta.npy"}, y = {kind = "kind.npy", score = "score.npy"},
                     validation_split = 0.25, subset = validation, seed = 1)
}
train two_io on parts.train {
    validation = parts.validation
    optimizer = adam(learning_rate = 0.01)
    loss = {kind = sparse_categorical_crossentropy, score = mse}
    loss_weights = {kind = 1.0, score = 0.5}
    metrics = {kind = [accuracy], score = [mae]}
    batch_size = 16
)" << train_fields << R"(
}
evaluate two_io on parts.validation
)";
}

}  // namespace

TEST_CASE("multi-output: cnnc run trains on keyed npy arrays and reports Keras 3's keys", "[multi_io][engine]") {
    TempDir dir;
    fs::path d(dir.path());
    write_two_io_files(d, 64, "epochs = 3\n    callbacks = [EarlyStopping(monitor = val_kind_accuracy, patience = 5), CSVLogger(\"log.csv\")]");
    CommandResult r = run_cnnc("run two_io.cnn --seed 2", d.string());
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("Training two_io on parts.train: 48 samples"));
    std::string history = read_bytes((d / "two_io_history.csv").string());
    CHECK(history.substr(0, history.find('\n')) ==
          "epoch,loss,kind_loss,score_loss,kind_accuracy,score_mae,val_loss,val_kind_loss,val_score_loss,val_kind_accuracy,"
          "val_score_mae");
    // CSVLogger: Keras' columns, epoch from 0 and the metrics sorted.
    std::string log = read_bytes((d / "log.csv").string());
    CHECK(log.substr(0, log.find('\n')) ==
          "epoch,kind_accuracy,kind_loss,loss,score_loss,score_mae,val_kind_accuracy,val_kind_loss,val_loss,val_score_loss,"
          "val_score_mae");
    // The evaluation prints the same keys, and its loss is the weighted sum of the outputs' losses.
    const double loss = metric_on_line(r.output, "two_io on parts.validation", "loss");
    const double kind = metric_on_line(r.output, "two_io on parts.validation", "kind_loss");
    const double score = metric_on_line(r.output, "two_io on parts.validation", "score_loss");
    CHECK(loss == Approx(kind + 0.5 * score).margin(3e-4));  // each printed to 4 decimals
    CHECK(std::isfinite(metric_on_line(r.output, "two_io on parts.validation", "kind_accuracy")));
    CHECK(std::isfinite(metric_on_line(r.output, "two_io on parts.validation", "score_mae")));
}

TEST_CASE("multi-output: a run interrupted after an epoch resumes to the uninterrupted result", "[multi_io][resume]") {
    TempDir dir;
    fs::path d(dir.path());
    write_two_io_files(d, 48, "epochs = 3");
    CommandResult whole = run_cnnc("run two_io.cnn --seed 4", d.string());
    INFO(whole.output);
    REQUIRE(whole.status == 0);
    const std::string history = read_bytes((d / "two_io_history.csv").string());
    const auto weights = weight_values(d / "two_io.weights.h5");  // the values: an HDF5 file's bytes vary
    fs::remove(d / "two_io_history.csv");
    fs::remove(d / "two_io.weights.h5");
    CommandResult stopped = run_cnnc("run two_io.cnn --seed 4", d.string(), "CNNC_INTERRUPT_AFTER_EPOCH=1");
    INFO(stopped.output);
    REQUIRE(stopped.status == 1);
    CommandResult resumed = run_cnnc("run two_io.cnn --seed 4 --resume", d.string());
    INFO(resumed.output);
    REQUIRE(resumed.status == 0);
    CHECK_THAT(resumed.output, Catch::Contains("Resuming after epoch 1"));
    CHECK(read_bytes((d / "two_io_history.csv").string()) == history);
    CHECK(weight_values(d / "two_io.weights.h5") == weights);
}

TEST_CASE("multi-output: bad keyed arrays are clear errors naming the file", "[multi_io][data]") {
    TempDir dir;
    fs::path d(dir.path());
    write_two_io_files(d, 32, "");
    // Fewer samples in one array.
    write_bytes((d / "meta.npy").string(), npy_bytes("<f4", "(31, 3)", f32(std::vector<float>(93, 0.f))));
    CommandResult r = run_cnnc("run two_io.cnn", d.string());
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("meta.npy: 31 samples, but"));
    // A class id beyond kind's 3 classes.
    write_two_io_files(d, 32, "");
    std::vector<float> bad(32, 0.f);
    bad[7] = 3;
    write_bytes((d / "kind.npy").string(), npy_bytes("<f4", "(32,)", f32(bad)));
    r = run_cnnc("run two_io.cnn", d.string());
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("kind.npy: sample 7 (counting from 0) has class id 3, but output 'kind' has 3 classes"));
    // A score array of another shape than the output's.
    write_two_io_files(d, 32, "");
    write_bytes((d / "score.npy").string(), npy_bytes("<f4", "(32, 3)", f32(std::vector<float>(96, 0.f))));
    r = run_cnnc("run two_io.cnn", d.string());
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("score.npy: samples of shape (3,), but output 'score' has shape (2,)"));
}

TEST_CASE("models/two_io_example.cnn checks", "[multi_io][models]") {
    auto c = compile_repo_file("models/two_io_example.cnn");
    require_ok(*c);
    CHECK(c->program.trains.at(0).outputs.size() == 2);
}
