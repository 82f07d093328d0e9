// The network as a graph: gradients by finite differences where tensors fan out (read by several
// stages, twice by one, through views, as an output and read further), and the merge layers'
// ops on small graphs.
#include <fmt/format.h>

#include "EngineHelpers.h"
#include "GradientCheck.h"
#include "GraphOps.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

// L = Σ_j Σ out_j · R_j over the network's outputs, in float64.
struct Probe {
    rt::Network& net;
    std::vector<rt::Tensor> r;
    rt::Tensor x;
    rt::StepInfo s{true, 1, 1};

    double loss() {
        std::vector<rt::View> out = net.forward_all({x.view()}, s);
        double l = 0;
        for (size_t j = 0; j < out.size(); ++j)
            for (int64_t i = 0; i < out[j].size(); ++i) l += double(out[j][i]) * r[j][i];
        return l;
    }
    void backward() {
        std::vector<rt::View> out = net.forward_all({x.view()}, s), d;
        for (size_t j = 0; j < out.size(); ++j) d.push_back(r[j].view().reshaped(out[j].shape));
        net.backward_all(d, std::vector<bool>(out.size(), false), s);
    }
};

void check_network(rt::Network& net, int64_t n, uint64_t seed) {
    rt::Rng rng(seed);
    net.prepare(n, true);
    Probe p{net, {}, rt::Tensor({n, 6})};
    fill_uniform(p.x.data(), p.x.size(), rng, -1, 1);
    for (rt::Param* w : net.params()) fill_uniform(w->value.data(), w->value.size(), rng, -1, 1);
    for (int t : net.outputs()) {
        rt::Dims d = {n};
        const rt::Dims& per = net.stages()[static_cast<size_t>(t)].out_shape;
        d.insert(d.end(), per.begin(), per.end());
        p.r.emplace_back(d);
        fill_uniform(p.r.back().data(), p.r.back().size(), rng, -1, 1);
    }
    p.backward();
    for (rt::Param* w : net.params()) check_gradient(w->grad, w->value, [&] { return p.loss(); }, rng, w->name);
}

// input (6) → s0 = Scale → s1 = tanh → s2 = Scale(s1); v3 = view of s1 as (2, 3) → s4 = Scale(v3)
// → v5 = view as (6); s6 = Mix(s2, v5, s1, s1): s1 read four times (twice by one stage, once
// through views); s7 = Scale(s6); s8 = Mix(s7, s0): a long skip from the first stage.
int fan_out_graph(rt::Network& net) {
    int s0 = net.add("s0", std::make_unique<Scale>(rt::Dims{6}), {6});
    int s1 = net.add("s1", std::make_unique<Tanh>(), {6}, {s0});
    int s2 = net.add("s2", std::make_unique<Scale>(rt::Dims{6}), {6}, {s1});
    int v3 = net.add("v3", std::make_unique<Reshape>(), {2, 3}, {s1});
    int s4 = net.add("s4", std::make_unique<Scale>(rt::Dims{2, 3}), {2, 3}, {v3});
    int v5 = net.add("v5", std::make_unique<Reshape>(), {6}, {s4});
    int s6 = net.add("s6", std::make_unique<Mix>(), {6}, {s2, v5, s1, s1});
    int s7 = net.add("s7", std::make_unique<Scale>(rt::Dims{6}), {6}, {s6});
    net.add("s8", std::make_unique<Mix>(), {6}, {s7, s0});
    return s2;
}

}  // namespace

TEST_CASE("gradients through fan-out, a tensor read twice by one merge, and views match finite differences", "[graph][gradients]") {
    rt::Network net({6});
    fan_out_graph(net);
    check_network(net, 3, 21);
}

TEST_CASE("an output that other stages also read gets the sum of its loss gradient and theirs", "[graph][gradients]") {
    rt::Network net({6});
    int s2 = fan_out_graph(net);
    net.set_outputs({static_cast<int>(net.stages().size()) - 1, s2, s2});  // s2 twice: the second adds too
    check_network(net, 2, 23);
}

TEST_CASE("a frozen part gets no gradient, and its activations are freed in forward", "[graph][memory]") {
    rt::Network net({6});
    fan_out_graph(net);
    rt::Network::Memory all = net.memory(true);
    // Only s7 trains: s8 needs dL/ds7 (into a buffer of 6 floats a sample), nothing upstream of s7
    // needs a gradient, and s1 to s5 die in forward.
    for (size_t k = 0; k < net.stages().size(); ++k)
        for (rt::Param& p : net.stages()[k].op->params) p.trainable = net.stages()[k].name == "s7";
    rt::Network::Memory frozen = net.memory(true);
    CHECK(frozen.gradients == 6 * 4);
    CHECK(frozen.planned < all.planned);
    net.prepare(2, true);
    rt::Tensor x({2, 6}), d({2, 6});
    x.fill(0.25f), d.fill(1.f);
    rt::StepInfo s{true, 1, 1};
    net.forward(x.view(), s);
    net.backward(d.view(), false, s);
    CHECK(net.stages()[0].op->params[0].grad[0] == 0.f);  // frozen, upstream of nothing trainable: never written
    CHECK(net.stages()[7].op->params[0].grad[0] != 0.f);
}
