// Kernels of the elementwise merges (Add, Subtract, Multiply, Average, Maximum, Minimum), forward
// and backward, with Keras' broadcasting of size-1 axes. Shapes come canonical (merge/Op.cpp):
// `dims` the output's axes per sample, outermost first ("64x16"), each the product of adjacent
// axes that broadcast alike, and `b<k>` input k's broadcast axes as bits (bit a: axis a of `dims`,
// where the input has size 1 and is read at 0). Without broadcasting, `dims` is one axis.
// Concatenate is a copy and has no kernel.
#include <sstream>

#include "kernels/KernelDef.h"
#include "kernels/Schedule.h"

namespace cnnc::engine {
using namespace Halide;

namespace {

struct Merge {
    std::string op;
    int n = 0;
    std::vector<int> dims;                 // Halide's order: innermost first, the batch excluded
    std::vector<std::vector<bool>> bcast;  // per input, per axis of `dims`
    std::vector<Var> vars;                 // one per axis, then the batch
};

Merge read_merge(const KernelSpec& s, int inputs) {
    Merge m;
    m.op = s.s("op");
    m.n = s.i("n");
    std::stringstream text(s.s("dims"));
    for (std::string d; std::getline(text, d, 'x');) m.dims.insert(m.dims.begin(), std::stoi(d));
    const int r = static_cast<int>(m.dims.size());
    for (int k = 0; k < inputs; ++k) {
        const int bits = s.i("b" + std::to_string(k));
        m.bcast.emplace_back(r);
        for (int a = 0; a < r; ++a) m.bcast.back()[static_cast<size_t>(a)] = (bits >> (r - 1 - a)) & 1;
    }
    for (int a = 0; a <= r; ++a) m.vars.emplace_back("axis" + std::to_string(a));  // not v<k>: Halide names its own vars so
    return m;
}

// An input of the merge's rank (+ the batch), dense, size 1 on its broadcast axes.
ImageParam merge_input(const Merge& m, const std::vector<bool>& bcast, const std::string& name) {
    ImageParam p(Float(32), static_cast<int>(m.dims.size()) + 1, name);
    std::vector<int> extents;
    for (size_t a = 0; a < m.dims.size(); ++a) extents.push_back(bcast[a] ? 1 : m.dims[a]);
    extents.push_back(0);
    dense_layout(p, extents);
    return p;
}

// The value of `p` at output position `at`: 0 on its broadcast axes.
Expr read(const ImageParam& p, const std::vector<bool>& bcast, std::vector<Expr> at) {
    for (size_t a = 0; a < bcast.size(); ++a)
        if (bcast[a]) at[a] = 0;
    return p(at);
}

std::vector<Expr> exprs(const std::vector<Var>& v) { return std::vector<Expr>(v.begin(), v.end()); }

// Vectors along the innermost axis, samples in parallel.
void schedule(Func f, const Merge& m, int inner_extent) {
    if (!m.dims.empty()) {
        const int w = inner_extent >= 16 ? 16 : sched::vector_width(inner_extent);
        if (w > 1) f.vectorize(m.vars.front(), w, TailStrategy::GuardWithIf);
    }
    f.parallel(m.vars.back());
}

}  // namespace

// merge_fwd(op, n, dims, b0..b<n-1>): Keras' order of operations, left to right: the sum, x0 - x1,
// the product, the sum over n, the maximum or the minimum.
KernelDef build_merge_fwd(const KernelSpec& s) {
    Merge m = read_merge(s, s.i("n"));
    KernelDef k;
    for (int i = 0; i < m.n; ++i) k.inputs.push_back(merge_input(m, m.bcast[static_cast<size_t>(i)], "x" + std::to_string(i)));
    std::vector<Expr> at = exprs(m.vars);
    auto x = [&](int i) { return read(k.inputs[static_cast<size_t>(i)], m.bcast[static_cast<size_t>(i)], at); };
    Expr v = x(0);
    for (int i = 1; i < m.n; ++i) {
        if (m.op == "add" || m.op == "average") v = v + x(i);
        else if (m.op == "subtract") v = v - x(i);
        else if (m.op == "multiply") v = v * x(i);
        else if (m.op == "maximum") v = max(v, x(i));
        else if (m.op == "minimum") v = min(v, x(i));
        else throw std::runtime_error("merge_fwd: unknown op '" + m.op + "'");
    }
    if (m.op == "average") v = v / static_cast<float>(m.n);
    Func y("y");
    y(m.vars) = v;
    schedule(y, m, m.dims.empty() ? 1 : m.dims.front());
    k.pipeline = Pipeline(y);
    return k;
}

// merge_bwd(op, n, i, dims, b...): dL/dx_i from dL/dy (the first input) and, for the ops whose
// derivative reads them (multiply, maximum, minimum), the n inputs after it, each with its b<k>;
// the others name input i's broadcast axes as b0. Summed over input i's broadcast axes.
// Maximum and minimum send the gradient to the input that wins, ties to the first of them, as
// TensorFlow's gradient of Keras' left-to-right maximum(maximum(x0, x1), x2) does.
KernelDef build_merge_bwd(const KernelSpec& s) {
    const std::string op = s.s("op");
    const bool reads_inputs = op == "multiply" || op == "maximum" || op == "minimum";
    Merge m = read_merge(s, reads_inputs ? s.i("n") : 1);
    const int i = s.i("i");
    const std::vector<bool>& mine = m.bcast[reads_inputs ? static_cast<size_t>(i) : 0];
    KernelDef k;
    k.inputs.push_back(merge_input(m, std::vector<bool>(m.dims.size(), false), "dy"));
    if (reads_inputs)
        for (int j = 0; j < m.n; ++j) k.inputs.push_back(merge_input(m, m.bcast[static_cast<size_t>(j)], "x" + std::to_string(j)));
    // The reduction over input i's broadcast axes: their output extents.
    Region over;
    for (size_t a = 0; a < m.dims.size(); ++a)
        if (mine[a]) over.push_back({0, m.dims[a]});
    RDom r;
    if (!over.empty()) r = RDom(over);
    std::vector<Expr> at = exprs(m.vars);
    for (size_t a = 0, d = 0; a < m.dims.size(); ++a)
        if (mine[a]) at[a] = r[static_cast<int>(d++)];
    auto x = [&](int j) { return read(k.inputs[static_cast<size_t>(j) + 1], m.bcast[static_cast<size_t>(j)], at); };
    Expr dy = k.inputs[0](at), g;
    if (op == "add") {
        g = dy;
    } else if (op == "average") {
        g = dy / static_cast<float>(m.n);
    } else if (op == "subtract") {
        g = i == 0 ? dy : -dy;
    } else if (op == "multiply") {
        g = dy;
        for (int j = 0; j < m.n; ++j)
            if (j != i) g = g * x(j);
    } else if (op == "maximum" || op == "minimum") {
        Expr wins;
        for (int j = 0; j < m.n; ++j) {
            if (j == i) continue;
            Expr a = op == "maximum" ? x(i) : -x(i), b = op == "maximum" ? x(j) : -x(j);
            Expr beats = j < i ? a > b : a >= b;  // an earlier equal input wins the tie
            wins = wins.defined() ? wins && beats : beats;
        }
        g = wins.defined() ? select(wins, dy, 0.f) : dy;
    } else {
        throw std::runtime_error("merge_bwd: unknown op '" + op + "'");
    }
    Func dx("dx");
    dx(m.vars) = over.empty() ? g : sum(g);
    schedule(dx, m, m.dims.empty() || mine.front() ? 1 : m.dims.front());
    k.pipeline = Pipeline(dx);
    return k;
}

}  // namespace cnnc::engine
