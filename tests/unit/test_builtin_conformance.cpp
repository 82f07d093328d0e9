// Every entry of the checker's builtin lists must run in the runtime: the class of gap that let
// `gelu` pass `cnnc check` and stop `cnnc run` (activations have their own conformance test,
// test_activations.cpp, and layers theirs, test_layers.cpp). Each entry is executed on a tiny
// example whose result is computed by hand here, so an entry the runtime silently ignores fails too.
#include <cmath>

#include "Helpers.h"
#include "builtins/Builtins.h"
#include "train/Callbacks.h"
#include "train/Loss.h"
#include "train/Optimizer.h"

using namespace cnnc;

namespace {
rt::Tensor tensor(rt::Dims shape, std::vector<float> v) {
    rt::Tensor t(shape);
    for (size_t i = 0; i < v.size(); ++i) t[static_cast<int64_t>(i)] = v[i];
    return t;
}
}  // namespace

TEST_CASE("every optimizer of the list takes a step in the runtime", "[builtins][conformance]") {
    for (const Builtin& b : optimizers()) {
        for (const std::string& name : builtin_names(std::vector<Builtin>{b})) {
            DYNAMIC_SECTION(name) {
                rt::Optimizer opt({b.name, {}});
                rt::Param p;
                p.name = "w";
                p.value = tensor({2}, {1.f, -1.f});
                p.grad = tensor({2}, {0.5f, -0.5f});
                std::vector<rt::Param*> ps{&p};
                opt.step(ps);
                // Every optimizer moves each weight against its gradient on the first step.
                CHECK(p.value[0] < 1.f);
                CHECK(p.value[1] > -1.f);
                CHECK(opt.iterations == 1);
            }
        }
    }
}

TEST_CASE("every loss of the list computes in the runtime", "[builtins][conformance]") {
    // Two samples, three outputs (probabilities), one-hot and sparse targets of classes 1 and 2.
    rt::Tensor out = tensor({2, 3}, {0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f});
    rt::Tensor onehot = tensor({2, 3}, {0, 1, 0, 0, 0, 1});
    rt::Tensor sparse = tensor({2, 1}, {1, 2});
    rt::Tensor bin_out = tensor({2, 1}, {0.8f, 0.4f}), bin_t = tensor({2, 1}, {1, 0});
    for (const LossKind& l : losses()) {
        DYNAMIC_SECTION(l.name) {
            rt::LossSpec spec;
            spec.name = l.name;
            double want = 0, got = 0;
            if (l.name == "categorical_crossentropy") {
                got = rt::compute_loss(spec, out.view(), onehot.view(), nullptr, false);
                want = -(std::log(0.7) + std::log(0.2)) / 2;
            } else if (l.name == "sparse_categorical_crossentropy") {
                got = rt::compute_loss(spec, out.view(), sparse.view(), nullptr, false);
                want = -(std::log(0.7) + std::log(0.2)) / 2;
            } else if (l.name == "binary_crossentropy") {
                got = rt::compute_loss(spec, bin_out.view(), bin_t.view(), nullptr, false);
                want = -(std::log(0.8) + std::log(0.6)) / 2;
            } else if (l.name == "mean_squared_error") {
                got = rt::compute_loss(spec, out.view(), onehot.view(), nullptr, false);
                want = ((0.01 + 0.09 + 0.04) / 3 + (0.25 + 0.09 + 0.64) / 3) / 2;
            } else if (l.name == "mean_absolute_error") {
                got = rt::compute_loss(spec, out.view(), onehot.view(), nullptr, false);
                want = ((0.1 + 0.3 + 0.2) / 3 + (0.5 + 0.3 + 0.8) / 3) / 2;
            } else {
                FAIL("loss " << l.name << " has no hand-computed example in this test");
            }
            CHECK(got == Approx(want).epsilon(1e-6));
        }
    }
}

TEST_CASE("every metric of the list computes in the runtime", "[builtins][conformance]") {
    rt::Tensor out = tensor({2, 3}, {0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f});
    rt::Tensor onehot = tensor({2, 3}, {0, 1, 0, 0, 0, 1});
    rt::Tensor sparse = tensor({2, 1}, {1, 2});
    rt::LossSpec cce{"categorical_crossentropy", false, 0}, scce{"sparse_categorical_crossentropy", false, 0};
    for (const std::string& name : builtin_names(metrics())) {
        DYNAMIC_SECTION(name) {
            rt::Metric m = rt::resolve_metric(name, name == "sparse_categorical_accuracy" ? scce : cce, 3);
            const rt::Tensor& target = m.kind == "sparse_categorical_accuracy" ? sparse : onehot;
            double got = 0, want = 0;
            if (m.kind == "binary_accuracy") {  // thresholds 0.5 per output: 3/3 and 2/3 agree
                got = rt::metric_sum(m, out.view(), onehot.view());
                want = 1.0 + 2.0 / 3;
            } else {
                got = rt::metric_sum(m, out.view(), target.view());
                if (m.kind == "categorical_accuracy" || m.kind == "sparse_categorical_accuracy") want = 1;  // first right, second wrong
                else if (m.kind == "top_k_categorical_accuracy") want = 2;                              // k = 5 > 3 classes
                else if (m.kind == "mean_squared_error") want = (0.01 + 0.09 + 0.04) / 3 + (0.25 + 0.09 + 0.64) / 3;
                else if (m.kind == "mean_absolute_error") want = (0.1 + 0.3 + 0.2) / 3 + (0.5 + 0.3 + 0.8) / 3;
                else FAIL("metric " << name << " resolved to '" << m.kind << "', which this test does not know");
            }
            CHECK(got == Approx(want).epsilon(1e-6));
        }
    }
}

TEST_CASE("every callback of the list is built by the runtime", "[builtins][conformance]") {
    for (const Builtin& b : callbacks()) {
        DYNAMIC_SECTION(b.name) {
            rt::CallbackArgs a;
            a.kind = b.name;
            a.str["monitor"] = "loss";
            a.str["filepath"] = "/nonexistent/never-written.weights.h5";
            a.str["filename"] = "/nonexistent/never-written.csv";
            std::shared_ptr<rt::Callback> cb;
            REQUIRE_NOTHROW(cb = rt::make_callback(a));
            CHECK(cb != nullptr);
        }
    }
}
