// Every entry of the checker's builtin lists must run in the runtime: the class of gap that let
// `gelu` pass `cnnc check` and stop `cnnc run` (activations have their own conformance test,
// test_activations.cpp, and layers theirs, test_layers.cpp). Each entry is built by its own record
// from its defaults and executed: losses and metrics on the worked examples their records carry,
// so an entry added to a list is tested without touching this file, and one the runtime silently
// ignores fails.
#include <cmath>

#include "Helpers.h"
#include "sema/Written.h"

using namespace cnnc;

namespace {

rt::Tensor rows(const std::vector<std::vector<float>>& r) {
    const int64_t n = static_cast<int64_t>(r.size()), k = n ? static_cast<int64_t>(r[0].size()) : 0;
    rt::Tensor t({n, k});
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < k; ++j) t[i * k + j] = r[static_cast<size_t>(i)][static_cast<size_t>(j)];
    return t;
}

}  // namespace

TEST_CASE("every optimizer of the list takes a step in the runtime", "[builtins][conformance]") {
    for (const OptimizerKind& b : optimizers()) {
        for (const std::string& name : builtin_names(std::vector<Builtin>{b})) {
            DYNAMIC_SECTION(name) {
                auto opt = make_optimizer({name, {}, {}});
                CHECK(opt->name() == b.name);  // the name a training state records
                rt::Param p;
                p.name = "w";
                p.value = rows({{1.f, -1.f}});
                p.grad = rows({{0.5f, -0.5f}});
                std::vector<rt::Param*> ps{&p};
                opt->step(ps);
                // Every optimizer moves each weight against its gradient on the first step.
                CHECK(p.value[0] < 1.f);
                CHECK(p.value[1] > -1.f);
                CHECK(opt->iterations == 1);
            }
        }
    }
}

TEST_CASE("every loss of the list computes its worked examples in the runtime", "[builtins][conformance]") {
    for (const LossKind& l : losses()) {
        DYNAMIC_SECTION(l.name) {
            REQUIRE_FALSE(l.examples.empty());  // a loss without a worked example is untested
            for (const BatchExample& e : l.examples) {
                rt::LossSpec spec = make_loss({l.name, {}, {}});
                rt::Tensor out = rows(e.out), target = rows(e.target);
                CHECK(rt::compute_loss(spec, out.view(), target.view(), nullptr, false) == Approx(e.want).epsilon(1e-6));
            }
        }
    }
}

TEST_CASE("every metric of the list computes its worked examples in the runtime", "[builtins][conformance]") {
    for (const MetricKind& m : metrics()) {
        DYNAMIC_SECTION(m.name) {
            if (!m.sum) {  // `accuracy`: each loss names the accuracy it stands for, which must compute
                for (const LossKind& l : losses())
                    for (int64_t width : {1, 3}) CHECK(resolve_metric(m.name, l, width).sum != nullptr);
                continue;
            }
            REQUIRE_FALSE(m.examples.empty());
            for (const BatchExample& e : m.examples) {
                rt::Tensor out = rows(e.out), target = rows(e.target);
                const double n = static_cast<double>(e.out.size());
                CHECK(rt::metric_sum(resolve_metric(m.name, losses().front(), 3), out.view(), target.view()) / n ==
                      Approx(e.want).epsilon(1e-6));
            }
        }
    }
}

TEST_CASE("`accuracy` resolves as Keras does", "[builtins][conformance]") {
    auto resolved = [](const char* loss, int64_t width) { return resolve_metric("acc", *find_builtin(losses(), loss), width).sum; };
    CHECK(resolved("categorical_crossentropy", 3) == rt::categorical_accuracy);
    CHECK(resolved("sparse_categorical_crossentropy", 3) == rt::sparse_categorical_accuracy);
    CHECK(resolved("binary_crossentropy", 3) == rt::binary_accuracy);
    CHECK(resolved("mean_squared_error", 1) == rt::binary_accuracy);
    CHECK(resolved("mean_squared_error", 3) == rt::categorical_accuracy);
}

TEST_CASE("every callback of the list is built by the runtime", "[builtins][conformance]") {
    for (const CallbackKind& b : callbacks()) {
        DYNAMIC_SECTION(b.name) {
            WrittenCall call{b.name, {}, {}};
            for (const ParamSpec& p : b.params)  // the required arguments: paths that are never written
                if (p.required) call.str[p.name] = "/nonexistent/never-written";
            std::unique_ptr<rt::Callback> cb;
            REQUIRE_NOTHROW(cb = make_callback(call));
            CHECK(cb != nullptr);
        }
    }
}
