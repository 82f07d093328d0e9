// The gradient buckets of data-parallel training (runtime/train/GradientBuckets.h), without MPI:
// a recording world of two identical ranks (each sum doubles its buffer) shows where the buckets
// are cut, when each starts during the backward pass, that they start in the same order whatever
// order the stages report in, and what lands in the gradients. Figures by hand.
#include <string>
#include <vector>

#include "Helpers.h"
#include "train/GradientBuckets.h"

using namespace cnnc;
using namespace cnnc::rt;

namespace {

// Two ranks with the same gradients: a sum is the buffer doubled, applied when waited for.
struct Recorder : Collective {
    std::vector<std::pair<float*, size_t>> started;
    std::vector<size_t> sizes;  // every start, in order
    int progressed = 0;
    int rank() const override { return 0; }
    int size() const override { return 2; }
    void allreduce_sum(float*, size_t) override {}
    void allreduce_sum(double*, size_t) override {}
    void start_sum(float* data, size_t n) override {
        started.emplace_back(data, n);
        sizes.push_back(n);
    }
    void progress() override { ++progressed; }
    void wait_all() override {
        for (auto [data, n] : started)
            for (size_t i = 0; i < n; ++i) data[i] *= 2;
        started.clear();
    }
    void broadcast(double*, size_t, int) override {}
    void barrier() override {}
};

// Three stages as a network holds them (first layer first): 4, then 2 + 3, then 5 weights; the
// gradient of weight i of stage s is 10 s + i.
std::vector<std::vector<Param>> stages() {
    std::vector<std::vector<Param>> s(3);
    auto add = [&](size_t stage, int64_t n) {
        Param p;
        p.value = Tensor({n});
        p.grad = Tensor({n});
        for (int64_t i = 0; i < n; ++i) p.grad.data()[i] = static_cast<float>(10 * stage + static_cast<size_t>(i));
        s[stage].push_back(std::move(p));
    };
    add(0, 4);
    add(1, 2);
    add(1, 3);
    add(2, 5);
    return s;
}

std::vector<Param*> all(std::vector<std::vector<Param>>& s) {
    std::vector<Param*> out;
    for (auto& st : s)
        for (Param& p : st) out.push_back(&p);
    return out;
}

}  // namespace

TEST_CASE("gradient buckets: cut from the last layer back, started as their stages complete, scaled and summed", "[mpi]") {
    auto s = stages();
    Recorder w;
    // 16 bytes (4 floats): the last stage's 5 close a bucket, then stage 1's 3 + 2, then stage 0's 4.
    GradientBuckets b(w, all(s), 16);
    REQUIRE(b.buckets() == 3);
    b.begin(1, 4);  // this rank has 1 of the step's 4 samples: gradients scaled by 1/4
    GradientsDone done = b.on_done();
    REQUIRE(done);
    done(s[2]);
    CHECK(w.sizes == std::vector<size_t>{5});  // started during backward, before stage 1 ran
    done(s[1]);
    CHECK(w.sizes == std::vector<size_t>{5, 5});
    CHECK(w.progressed == 2);
    done(s[0]);
    b.finish();
    CHECK(w.sizes == std::vector<size_t>{5, 5, 4});
    // Each gradient: g / 4 from each of two ranks, g / 2 in all.
    CHECK(s[2][0].grad.data()[4] == Approx((20 + 4) / 2.0));
    CHECK(s[1][1].grad.data()[2] == Approx((10 + 2) / 2.0));
    CHECK(s[0][0].grad.data()[3] == Approx((0 + 3) / 2.0));
}

TEST_CASE("gradient buckets: started in the same order whatever order the stages report in", "[mpi]") {
    auto s = stages();
    Recorder w;
    GradientBuckets b(w, all(s), 16);
    b.begin(2, 2);
    GradientsDone done = b.on_done();
    // Stage 1 first: its bucket must wait for the last stage's, which every rank starts first.
    done(s[1]);
    CHECK(w.sizes.empty());
    done(s[2]);
    CHECK(w.sizes == std::vector<size_t>{5, 5});
    b.finish();  // stage 0 never reported: its gradients are taken as they are
    CHECK(w.sizes == std::vector<size_t>{5, 5, 4});
    CHECK(s[0][0].grad.data()[1] == Approx(2.0));
}

TEST_CASE("gradient buckets: a rank without samples adds zeros, size 0 is one allreduce after backward", "[mpi]") {
    auto s = stages();
    Recorder w;
    GradientBuckets one(w, all(s), 0);
    CHECK(one.buckets() == 1);
    one.begin(0, 3);  // no samples this step: no backward ran
    CHECK_FALSE(one.on_done());
    one.finish();
    CHECK(w.sizes == std::vector<size_t>{14});
    for (auto& st : s)
        for (Param& p : st)
            for (int64_t i = 0; i < p.grad.size(); ++i) CHECK(p.grad.data()[i] == 0.f);
}
