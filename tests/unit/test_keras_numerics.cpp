// Losses against every label encoding, and the reported training loss with regularizers, against
// Keras 3's rules computed here in float64.
#include <cmath>
#include <cstdio>

#include "EngineHelpers.h"
#include "builtins/Builtins.h"
#include "sema/Written.h"
#include "engine/Labels.h"
#include "train/Trainer.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

// The errors at the `loss` line (11:12) of a file with dataset d (`labels` unset when empty), a
// model whose last layer is Dense(width, activation), trained with `loss`.
std::vector<std::string> check_pair(const std::string& labels, int width, const std::string& act, const std::string& loss) {
    std::string s = "dataset d {\n    train = idx(\"a\", \"b\")\n";
    s += labels.empty() ? "\n" : "    labels = " + labels + "\n";
    s += "}\nmodel m {\n    input(28, 28, 1)\n    Flatten()\n    Dense(" + std::to_string(width) + ", activation = " + act +
         ")\n}\ntrain m on d.train {\n    loss = " + loss + "\n}\n";
    std::vector<std::string> at_loss;
    for (const auto& e : errors(*compile(s)))
        if (e.rfind("11:12: error:", 0) == 0) at_loss.push_back(e);
    return at_loss;
}

// The engine's loss for `labels` encoded as dataset d declares them (`encoding`, `classes`),
// given the model outputs `out` (one row per label).
double engine_loss(const std::string& loss, const std::string& encoding, int64_t classes, const std::vector<int32_t>& labels,
                   const std::vector<std::vector<float>>& out, std::vector<float>* grad = nullptr) {
    Dataset ds;
    ds.name = "d";
    ds.labels = encoding;
    ds.classes = classes;
    const LossKind* kind = find_builtin(losses(), loss);
    REQUIRE(kind);
    rt::Tensor y = engine::encode_labels(labels, ds, *kind);
    const int64_t n = static_cast<int64_t>(out.size()), k = static_cast<int64_t>(out[0].size());
    rt::Tensor o({n, k}), g({n, k});
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < k; ++j) o[i * k + j] = out[static_cast<size_t>(i)][static_cast<size_t>(j)];
    double l = rt::compute_loss(make_loss({kind->name}), o.view(), y.view(), g.data(), false);
    if (grad) grad->assign(g.data(), g.data() + g.size());
    return l;
}

double rel(double got, double want) { return std::fabs(got - want) / std::max(std::fabs(want), 1e-12); }

const std::vector<std::vector<float>> kProbs3 = {{0.7f, 0.2f, 0.1f}, {0.1f, 0.3f, 0.6f}};

}  // namespace

// Keras' label shapes: one_hot(k) (N, k), int (N,), binary (N, 1); cross-entropies need equal
// shapes after a trailing 1 is squeezed or expanded, sparse class ids of shape output[:-1], and
// mse/mae broadcast (so int labels fit only one output).
TEST_CASE("loss x labels: the checker accepts exactly the pairs Keras accepts", "[losses][labels][keras]") {
    struct Pair {
        std::string labels;
        int width;
        std::string act, loss;
        bool ok;
    };
    const std::vector<Pair> pairs = {
        {"one_hot(3)", 3, "softmax", "categorical_crossentropy", true},
        {"", 3, "softmax", "categorical_crossentropy", true},
        {"int", 3, "softmax", "categorical_crossentropy", false},
        {"binary", 3, "softmax", "categorical_crossentropy", false},
        {"one_hot(3)", 5, "softmax", "categorical_crossentropy", false},
        {"int", 3, "softmax", "sparse_categorical_crossentropy", true},
        {"binary", 2, "softmax", "sparse_categorical_crossentropy", true},
        {"one_hot(3)", 3, "softmax", "sparse_categorical_crossentropy", false},
        {"binary", 1, "sigmoid", "binary_crossentropy", true},
        {"int", 1, "sigmoid", "binary_crossentropy", true},
        {"", 1, "sigmoid", "binary_crossentropy", true},
        {"binary", 3, "sigmoid", "binary_crossentropy", false},
        {"int", 2, "sigmoid", "binary_crossentropy", false},
        {"one_hot(3)", 3, "sigmoid", "binary_crossentropy", true},
        {"one_hot(3)", 1, "sigmoid", "binary_crossentropy", false},
        {"one_hot(3)", 3, "linear", "mse", true},
        {"one_hot(3)", 1, "linear", "mse", true},
        {"one_hot(3)", 2, "linear", "mse", false},
        {"int", 1, "linear", "mse", true},
        {"int", 3, "linear", "mse", false},
        {"", 3, "linear", "mse", false},
        {"binary", 3, "linear", "mse", true},
        {"one_hot(3)", 3, "linear", "mae", true},
        {"int", 3, "linear", "mae", false},
        {"binary", 1, "linear", "mae", true},
        // kl_divergence broadcasts as mse does (y log(y / p) after squeeze_or_expand_to_same_rank).
        {"one_hot(3)", 3, "softmax", "kl_divergence", true},
        {"", 3, "softmax", "kl_divergence", true},
        {"one_hot(3)", 2, "softmax", "kl_divergence", false},
        {"int", 3, "softmax", "kl_divergence", false},
        {"binary", 1, "sigmoid", "kl_divergence", true},
        {"one_hot(3)", 1, "sigmoid", "kl_divergence", true},
    };
    for (const Pair& p : pairs) {
        auto errs = check_pair(p.labels, p.width, p.act, p.loss);
        INFO(p.loss << " with labels '" << p.labels << "' on Dense(" << p.width << ", " << p.act << ")");
        for (const auto& e : errs) INFO(e);
        CHECK(errs.size() == (p.ok ? 0u : 1u));
    }
}

TEST_CASE("loss x labels: a model that outputs more than a vector per sample cannot be compared with labels", "[losses][labels][keras]") {
    auto errs = errors(*compile("dataset d {\n    train = csv(\"a.csv\", label = 0, shape = (4, 3))\n    labels = int\n}\nmodel m {\n    input(4, 3)\n"
                                "    Dense(2, activation = softmax)\n}\ntrain m on d.train {\n    loss = sparse_categorical_crossentropy\n}\n"));
    REQUIRE(errs.size() >= 1);
    CHECK(errs.back() == "10:12: error: dataset 'd' has one label per sample, but model 'm' outputs (None, 4, 2) per sample; "
                     "Keras compares labels with a vector (add Flatten or a global pooling layer)");
}

TEST_CASE("loss x labels: each accepted pair's loss is Keras' value", "[losses][labels][keras]") {
    const double l7 = std::log(0.7), l6 = std::log(0.6);
    // Cross-entropies: -sum(y log p) per sample, averaged.
    CHECK(rel(engine_loss("categorical_crossentropy", "one_hot", 3, {0, 2}, kProbs3), -(l7 + l6) / 2) < 1e-6);
    CHECK(rel(engine_loss("categorical_crossentropy", "", 0, {0, 2}, kProbs3), -(l7 + l6) / 2) < 1e-6);
    CHECK(rel(engine_loss("sparse_categorical_crossentropy", "int", 0, {0, 2}, kProbs3), -(l7 + l6) / 2) < 1e-6);
    CHECK(rel(engine_loss("sparse_categorical_crossentropy", "binary", 0, {1, 0}, {{0.8f, 0.2f}, {0.4f, 0.6f}}),
              -(std::log(0.2) + std::log(0.4)) / 2) < 1e-6);
    // Binary cross-entropy: -(y log p + (1 - y) log(1 - p)), averaged over outputs and samples.
    const double bce1 = -(std::log(0.9) + std::log(0.6)) / 2;
    CHECK(rel(engine_loss("binary_crossentropy", "binary", 0, {1, 0}, {{0.9f}, {0.4f}}), bce1) < 1e-6);
    CHECK(rel(engine_loss("binary_crossentropy", "int", 0, {1, 0}, {{0.9f}, {0.4f}}), bce1) < 1e-6);
    const double bce3 = -((l7 + std::log(0.8) + std::log(0.9)) + (std::log(0.9) + std::log(0.7) + l6)) / 6;
    CHECK(rel(engine_loss("binary_crossentropy", "one_hot", 3, {0, 2}, kProbs3), bce3) < 1e-6);
    // mse/mae against one_hot(3): the one-hot row, not the class id (which would give 0.7^2... and 1.9^2...).
    const double mse3 = ((0.09 + 0.04 + 0.01) / 3 + (0.01 + 0.09 + 0.16) / 3) / 2;
    CHECK(rel(engine_loss("mse", "one_hot", 3, {0, 2}, kProbs3), mse3) < 1e-6);
    CHECK(rel(engine_loss("mae", "one_hot", 3, {0, 2}, kProbs3), ((0.3 + 0.2 + 0.1) / 3 + (0.1 + 0.3 + 0.4) / 3) / 2) < 1e-6);
    // One output against one_hot(3) broadcasts: the output is compared with each of the 3 values.
    std::vector<float> g;
    CHECK(rel(engine_loss("mse", "one_hot", 3, {0, 2}, {{0.5f}, {2.0f}}, &g), ((0.25 + 0.25 + 0.25) / 3 + (4.0 + 4.0 + 1.0) / 3) / 2) < 1e-6);
    REQUIRE(g.size() == 2);
    CHECK(rel(g[0], 2 * ((0.5 - 1) + 0.5 + 0.5) / 6) < 1e-6);  // d/do of the mean over 2 samples x 3 values
    CHECK(rel(g[1], 2 * ((2.0 - 0) + 2.0 + (2.0 - 1)) / 6) < 1e-6);
    // int labels against one output; binary (N, 1) labels broadcast against 3 outputs.
    CHECK(rel(engine_loss("mse", "int", 0, {0, 2}, {{0.5f}, {2.5f}}), (0.25 + 0.25) / 2) < 1e-6);
    CHECK(rel(engine_loss("mae", "binary", 0, {1}, {{0.5f, 1.0f, 0.0f}}), (0.5 + 0 + 1) / 3) < 1e-6);
    // kl_divergence against one_hot(3): sum(y log(y / p)) with y's zeros clipped to 1e-7.
    auto zeros = [](double p, double q) { return 1e-7 * (std::log(1e-7 / p) + std::log(1e-7 / q)); };
    CHECK(rel(engine_loss("kl_divergence", "one_hot", 3, {0, 2}, kProbs3), (zeros(0.2, 0.1) - l7 + zeros(0.1, 0.3) - l6) / 2) < 1e-6);
}

TEST_CASE("a label outside one_hot(k) is an error naming the dataset, never a write out of bounds", "[losses][labels]") {
    Dataset ds;
    ds.name = "d";
    ds.labels = "one_hot";
    ds.classes = 3;
    for (int32_t bad : {3, -1}) {
        INFO(bad);
        CHECK_THROWS_WITH(engine::encode_labels({0, bad}, ds, *find_builtin(losses(), "categorical_crossentropy")),
                          Catch::Contains("dataset 'd': label " + std::to_string(bad) + " of sample 2 does not fit one_hot(3)"));
    }
}

// Keras' train_step: loss = data loss + the regularization losses of the trainable weights at the
// weights the step starts from; the epoch's `loss` is a Mean of the steps weighted by batch size.
TEST_CASE("the reported training loss adds the L2 penalty at each step's starting weights", "[losses][regularizers][keras]") {
    Built b = build("model m {\n    input(2)\n    Dense(1, kernel_regularizer = l2(0.1))\n}\n");
    b.net->prepare(2, true);
    rt::Param *kernel = nullptr, *bias = nullptr;
    for (rt::Param* p : b.net->params()) (p->value.size() == 2 ? kernel : bias) = p;
    REQUIRE(kernel);
    REQUIRE(bias);
    double w[2] = {0.5, -0.25}, c = 0.125;
    kernel->value[0] = static_cast<float>(w[0]), kernel->value[1] = static_cast<float>(w[1]), bias->value[0] = static_cast<float>(c);
    const double x[3][2] = {{1, 2}, {-1, 0.5}, {0.5, -1}}, y[3] = {1, 0, 2}, l2 = 0.1, lr = 0.1;
    rt::Samples data;
    data.x = {rt::Tensor({3, 2})};
    data.y = {rt::Tensor({3, 1})};
    for (int i = 0; i < 3; ++i)
        data.x[0][i * 2] = static_cast<float>(x[i][0]), data.x[0][i * 2 + 1] = static_cast<float>(x[i][1]), data.y[0][i] = static_cast<float>(y[i]);

    // float64 reference: batches {0, 1} and {2} (batch_size 2, no shuffle), SGD.
    double weighted = 0;
    const std::pair<int, int> batches[] = {{0, 2}, {2, 1}};
    for (auto [begin, size] : batches) {
        double loss = 0, gw[2] = {0, 0}, gc = 0;
        for (int i = begin; i < begin + size; ++i) {
            const double d = x[i][0] * w[0] + x[i][1] * w[1] + c - y[i];
            loss += d * d / size;
            gw[0] += 2 * d * x[i][0] / size, gw[1] += 2 * d * x[i][1] / size, gc += 2 * d / size;
        }
        const double penalty = l2 * (w[0] * w[0] + w[1] * w[1]);
        weighted += (loss + penalty) * size;
        for (int j = 0; j < 2; ++j) w[j] -= lr * (gw[j] + 2 * l2 * w[j]);
        c -= lr * gc;
    }
    const double want = weighted / 3;

    auto opt_owner = make_optimizer({"sgd", {{"learning_rate", lr}}});
    rt::Optimizer& opt = *opt_owner;
    rt::FitConfig cfg;
    cfg.batch_size = 2;
    cfg.shuffle = false;
    cfg.outputs.resize(1);
    cfg.outputs[0].loss = make_loss({"mean_squared_error"});
    std::FILE* sink = std::tmpfile();
    REQUIRE(sink);
    cfg.out = sink;
    rt::Trainer trainer(*b.net, opt, cfg);
    rt::History h = trainer.fit(data, nullptr);
    std::fclose(sink);
    REQUIRE(h.epochs().size() == 1);
    const auto& row = h.epochs()[0].second;
    REQUIRE(row.at(0).first == "loss");
    CHECK(rel(row.at(0).second, want) < 1e-6);
    CHECK(rel(kernel->value[0], w[0]) < 1e-6);  // and the weights the reference reached
    CHECK(rel(bias->value[0], c) < 1e-6);
}
