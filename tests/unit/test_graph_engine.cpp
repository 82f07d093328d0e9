// The network as a graph: gradients by finite differences where tensors fan out (read by several
// stages, twice by one, through views, as an output and read further), and the merge layers'
// ops on small graphs.
#include <fmt/format.h>

#include <regex>

#include "EngineHelpers.h"
#include "GradientCheck.h"
#include "GraphOps.h"
#include "lower/Lowering.h"
#include "sema/Bind.h"

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

TEST_CASE("a stage whose output's only reader applies its activation's derivative gets dL/dz, fan-out, outputs and views keep y's",
          "[graph][gradients]") {
    auto tanh_at = [](const rt::Network& net, int k) -> const Tanh& { return dynamic_cast<const Tanh&>(*net.stages()[static_cast<size_t>(k)].op); };
    auto scale_at = [](const rt::Network& net, int k) -> const Scale& { return dynamic_cast<const Scale&>(*net.stages()[static_cast<size_t>(k)].op); };
    auto paired = [](const rt::Network& net, int k) { return net.receives_preactivation_gradient(static_cast<size_t>(k)); };
    // s0 = Scale → s1 = tanh → s2 = Scale(s1): the pair, before what each section adds.
    rt::Network net({6});
    const int s0 = net.add("s0", std::make_unique<Scale>(rt::Dims{6}), {6});
    const int s1 = net.add("s1", std::make_unique<Tanh>(), {6}, {s0});
    SECTION("a chain: the inner tanh pairs with its Scale, the output's tanh cannot") {
        int s2 = net.add("s2", std::make_unique<Scale>(rt::Dims{6}), {6}, {s1});
        int s3 = net.add("s3", std::make_unique<Tanh>(), {6}, {s2});
        check_network(net, 3, 31);
        CHECK(paired(net, s1));
        CHECK(tanh_at(net, s1).dz_given());
        CHECK(scale_at(net, s2).applies_tanh());
        CHECK_FALSE(paired(net, s3));
        CHECK_FALSE(scale_at(net, s0).applies_tanh());
    }
    SECTION("the tanh is also an output") {
        int s2 = net.add("s2", std::make_unique<Scale>(rt::Dims{6}), {6}, {s1});
        net.set_outputs({s2, s1});
        check_network(net, 2, 32);
        CHECK_FALSE(paired(net, s1));
        CHECK_FALSE(scale_at(net, s2).applies_tanh());
    }
    SECTION("the tanh fans out, to a Scale and to a merge") {
        int s2 = net.add("s2", std::make_unique<Scale>(rt::Dims{6}), {6}, {s1});
        net.add("s3", std::make_unique<Mix>(), {6}, {s2, s1});
        check_network(net, 2, 33);
        CHECK_FALSE(paired(net, s1));
        CHECK_FALSE(scale_at(net, s2).applies_tanh());
    }
    SECTION("the tanh is read through a view, or by a stage that does not take its derivative") {
        int v2 = net.add("v2", std::make_unique<Reshape>(), {2, 3}, {s1});
        int s3 = net.add("s3", std::make_unique<Scale>(rt::Dims{2, 3}), {2, 3}, {v2});
        int v4 = net.add("v4", std::make_unique<Reshape>(), {6}, {s3});
        int s5 = net.add("s5", std::make_unique<Tanh>(), {6}, {v4});
        net.add("s6", std::make_unique<Mix>(), {6}, {s5});
        check_network(net, 2, 34);
        CHECK_FALSE(paired(net, s1));
        CHECK_FALSE(scale_at(net, s3).applies_tanh());
        CHECK_FALSE(paired(net, s5));
    }
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

namespace {

rt::Tensor batch(int64_t n, const Shape& per) {
    rt::Dims d = {n};
    d.insert(d.end(), per.dims.begin(), per.dims.end());
    return rt::Tensor(d);
}

// A merge layer as the checker would leave it, from one of its worked examples: the inputs'
// shapes, the example's keyword arguments (`axis = 1`), the output shape by its rule.
LayerNode merge_node(const LayerKind& k, const LayerExample& ex) {
    LayerNode node;
    node.kind = &k;
    node.name = snake_case(k.name);
    node.in = ex.in;
    node.ins = {ex.in};
    node.ins.insert(node.ins.end(), ex.others.begin(), ex.others.end());
    std::vector<NamedValue> args;
    std::smatch m;
    std::string code = ex.code;
    for (std::regex kw(R"((\w+) = (-?\d+))"); std::regex_search(code, m, kw); code = m.suffix())
        args.push_back({m[1], {}, Value::integer(std::stoll(m[2]))});
    SourceManager sm;
    Diagnostics diags(sm);
    node.args = *bind_args(k.params, args, k.name, {}, diags);
    ShapeResult r = k.merge(node.args, node.ins);
    REQUIRE(r.error.empty());
    node.out = r.out;
    return node;
}

std::unique_ptr<rt::Op> lower(const LayerNode& node) { return engine::lowering_for(*node.kind)({node, kernel_cache(), node.name}); }

}  // namespace

TEST_CASE("every merge layer's gradients match finite differences, broadcasting included", "[graph][gradients][merge]") {
    for (const LayerKind* k : all_layers())
        for (size_t e = 0; k->is_merge() && e < k->examples.size(); ++e) {
            DYNAMIC_SECTION(k->name << " example " << e + 1 << ": " << k->examples[e].code) {
                LayerNode node = merge_node(*k, k->examples[e]);
                CHECK(node.out == k->examples[e].out);
                auto op = lower(node);
                op->prepare_backward(true);
                const int64_t n = 2;
                rt::Rng rng(31 + e);
                std::vector<rt::Tensor> xs, dxs;
                std::vector<rt::View> xv;
                std::vector<const rt::View*> dxp;
                for (const Shape& s : node.ins) {
                    xs.push_back(batch(n, s));
                    dxs.push_back(batch(n, s));
                    fill_uniform(xs.back().data(), xs.back().size(), rng, -1, 1);
                }
                std::vector<rt::View> dxv;
                for (size_t i = 0; i < xs.size(); ++i) xv.push_back(xs[i].view()), dxv.push_back(dxs[i].view());
                for (const rt::View& v : dxv) dxp.push_back(&v);
                rt::Tensor y = batch(n, node.out), r = batch(n, node.out);
                fill_uniform(r.data(), r.size(), rng, -1, 1);
                rt::StepInfo s{true, 1, 1};
                auto loss = [&]() {
                    op->forward_all(xv, y.view(), s);
                    double l = 0;
                    for (int64_t i = 0; i < y.size(); ++i) l += double(y[i]) * r[i];
                    return l;
                };
                loss();
                op->backward_all(xv, y.view(), r.view(), dxp, false, s);
                for (size_t i = 0; i < xs.size(); ++i) check_gradient(dxs[i], xs[i], loss, rng, fmt::format("{} dx{}", k->name, i));
            }
        }
}

TEST_CASE("merges by hand: Keras' broadcasting, Subtract's order, and Maximum's and Minimum's ties go to the first input",
          "[graph][merge]") {
    // `code`: the layer with its keyword arguments; returns y, then dL/dx for each input.
    auto run = [](const std::string& code, std::vector<Shape> ins, std::vector<std::vector<float>> values, std::vector<float> dy) {
        LayerExample ex{ins[0], code, {}, 0, {ins.begin() + 1, ins.end()}};
        LayerNode node = merge_node(*find_layer(code.substr(0, code.find('('))), ex);
        auto op = lower(node);
        op->prepare_backward(true);
        std::vector<rt::Tensor> xs, dxs;
        std::vector<rt::View> xv, dxv;
        std::vector<const rt::View*> dxp;
        for (size_t i = 0; i < ins.size(); ++i) {
            xs.push_back(batch(1, ins[i]));
            dxs.push_back(batch(1, ins[i]));
            std::copy(values[i].begin(), values[i].end(), xs.back().data());
        }
        for (size_t i = 0; i < xs.size(); ++i) xv.push_back(xs[i].view()), dxv.push_back(dxs[i].view());
        for (const rt::View& v : dxv) dxp.push_back(&v);
        rt::Tensor y = batch(1, node.out), g = batch(1, node.out);
        std::copy(dy.begin(), dy.end(), g.data());
        op->forward_all(xv, y.view(), {});
        op->backward_all(xv, y.view(), g.view(), dxp, false, {});
        std::vector<std::vector<float>> out = {std::vector<float>(y.data(), y.data() + y.size())};
        for (const rt::Tensor& d : dxs) out.emplace_back(d.data(), d.data() + d.size());
        return out;
    };
    using V = std::vector<std::vector<float>>;
    // (2, 3) + (3,): the row added to both rows; its gradient sums dL/dy over them.
    CHECK(run("Add()", {Shape({2, 3}), Shape({3})}, {{1, 2, 3, 4, 5, 6}, {10, 20, 30}}, {1, 2, 3, 4, 5, 6}) ==
          V{{11, 22, 33, 14, 25, 36}, {1, 2, 3, 4, 5, 6}, {5, 7, 9}});
    // (2, 1) * (1, 3): an outer product; dL/dx0 = Σ_j dy·x1, dL/dx1 = Σ_i dy·x0.
    CHECK(run("Multiply()", {Shape({2, 1}), Shape({1, 3})}, {{2, 3}, {1, 10, 100}}, {1, 1, 1, 1, 1, 1}) ==
          V{{2, 20, 200, 3, 30, 300}, {111, 111}, {5, 5, 5}});
    CHECK(run("Subtract()", {Shape({2}), Shape({2})}, {{5, 1}, {2, 4}}, {1, 2}) == V{{3, -3}, {1, 2}, {-1, -2}});
    CHECK(run("Average()", {Shape({2}), Shape({2}), Shape({2})}, {{3, 0}, {6, 0}, {0, 3}}, {3, 6}) == V{{3, 1}, {1, 2}, {1, 2}, {1, 2}});
    // Every position is a tie between two inputs: the earlier one gets the gradient.
    CHECK(run("Maximum()", {Shape({3}), Shape({3}), Shape({3})}, {{1, 2, 7}, {1, 3, 0}, {0, 3, 7}}, {1, 1, 1}) ==
          V{{1, 3, 7}, {1, 0, 1}, {0, 1, 0}, {0, 0, 0}});
    CHECK(run("Minimum()", {Shape({2}), Shape({2})}, {{4, 1}, {4, 0}}, {1, 1}) == V{{4, 0}, {1, 0}, {0, 1}});
    // Concatenate on the first axis (Keras' axis 1): x0's row, then x1's two; on the last: each
    // row of x0 followed by the same row of x1.
    CHECK(run("Concatenate(axis = 1)", {Shape({1, 2}), Shape({2, 2})}, {{1, 2}, {3, 4, 5, 6}}, {6, 5, 4, 3, 2, 1}) ==
          V{{1, 2, 3, 4, 5, 6}, {6, 5}, {4, 3, 2, 1}});
    CHECK(run("Concatenate(axis = -1)", {Shape({2, 1}), Shape({2, 2})}, {{1, 2}, {3, 4, 5, 6}}, {1, 2, 3, 4, 5, 6}) ==
          V{{1, 3, 4, 2, 5, 6}, {1, 4}, {2, 3, 5, 6}});
}
