// Layers that read several tensors: the elementwise merges (kernels in merge/Kernels.cpp) and
// Concatenate (a copy: memory-bound, so memcpy of contiguous runs is all it needs).
#include <cstring>

#include "lower/Lowering.h"

namespace cnnc::engine {

namespace {

// Keras' broadcasting (merge/Layer.cpp: shapes aligned from the last axis, size 1 broadcasts)
// made canonical for the kernels: axes where the output is 1 dropped, adjacent axes that every
// input broadcasts alike joined into one. Without broadcasting this leaves one axis, so every
// residual Add of a given size shares one kernel whatever the tensors' rank.
struct Canonical {
    std::vector<int64_t> dims;  // outermost first
    std::vector<int> bits;      // per input: bit a set where it has size 1 on axis a of dims
    std::string dims_text() const {
        std::string s;
        for (size_t a = 0; a < dims.size(); ++a) s += (a ? "x" : "") + std::to_string(dims[a]);
        return s.empty() ? "1" : s;
    }
    // An input (or the output, bits 0) of `v` under the canonical shape, the batch first.
    Buf buf(const rt::View& v, int bits_of) const {
        rt::Dims d = {v.shape[0]};
        for (size_t a = 0; a < dims.size(); ++a) d.push_back((bits_of >> a) & 1 ? 1 : dims[a]);
        if (dims.empty()) d.push_back(1);
        return to_halide(v, d);
    }
};

Canonical canonical(const std::vector<Shape>& ins, const Shape& out) {
    const size_t r = out.rank();
    Canonical c;
    c.bits.assign(ins.size(), 0);
    std::vector<bool> prev;
    for (size_t a = 0; a < r; ++a) {
        if (out[a] == 1) continue;
        std::vector<bool> b;
        for (const Shape& s : ins) {
            const size_t lead = r - s.rank();
            b.push_back(a < lead || s[a - lead] == 1);
        }
        if (!c.dims.empty() && b == prev) {
            c.dims.back() *= out[a];
            continue;
        }
        for (size_t i = 0; i < ins.size(); ++i)
            if (b[i]) c.bits[i] |= 1 << c.dims.size();
        c.dims.push_back(out[a]);
        prev = b;
    }
    return c;
}

// An op written for several inputs; given one (a merge of a single tensor), it is the same.
class MergeOp : public rt::Op {
  public:
    void forward(const rt::View& x, const rt::View& y, const rt::StepInfo& s) override { forward_all({x}, y, s); }
    void backward(const rt::View& x, const rt::View& y, const rt::View& dy, const rt::View* dx, bool logits,
                  const rt::StepInfo& s) override {
        backward_all({x}, y, dy, {dx}, logits, s);
    }
};

// Add, Subtract, Multiply, Average, Maximum, Minimum: `op` is the kernels' name for it.
class ElementwiseMergeOp : public MergeOp {
  public:
    ElementwiseMergeOp(const LowerContext& ctx, std::string op)
        : op_(std::move(op)), shape_(canonical(ctx.node.ins, ctx.node.out)), cache_(&ctx.cache) {
        fwd_ = cache_->get(spec("merge_fwd", -1));
    }
    void prepare_backward(bool need_dx) override {
        if (!need_dx || !bwd_.empty()) return;
        for (size_t i = 0; i < shape_.bits.size(); ++i) bwd_.push_back(cache_->get(spec("merge_bwd", static_cast<int>(i))));
    }
    void forward_all(const std::vector<rt::View>& xs, const rt::View& y, const rt::StepInfo&) override {
        std::vector<Buf> in;
        for (size_t i = 0; i < xs.size(); ++i) in.push_back(shape_.buf(xs[i], shape_.bits[i]));
        fwd_->run(in, {shape_.buf(y, 0)});
    }
    void backward_all(const std::vector<rt::View>& xs, const rt::View&, const rt::View& dy, const std::vector<const rt::View*>& dxs, bool,
                      const rt::StepInfo&) override {
        std::vector<Buf> in = {shape_.buf(dy, 0)};
        if (reads_inputs())
            for (size_t i = 0; i < xs.size(); ++i) in.push_back(shape_.buf(xs[i], shape_.bits[i]));
        for (size_t i = 0; i < xs.size(); ++i)
            if (dxs[i]) bwd_[i]->run(in, {shape_.buf(*dxs[i], shape_.bits[i])});
    }

  private:
    bool reads_inputs() const { return op_ == "multiply" || op_ == "maximum" || op_ == "minimum"; }
    // Forward (i < 0) or the gradient of input i. A derivative that reads only dL/dy names input
    // i's own broadcast axes alone, and i only where it matters (Subtract's sign), so both inputs
    // of a residual Add share one kernel.
    KernelSpec spec(const std::string& name, int i) const {
        const size_t n = shape_.bits.size();
        KernelSpec s(name);
        s.set("op", op_).set("n", static_cast<int>(n)).set("dims", shape_.dims_text());
        if (i >= 0) s.set("i", reads_inputs() || op_ == "subtract" ? i : 0);
        if (i < 0 || reads_inputs())
            for (size_t k = 0; k < n; ++k) s.set("b" + std::to_string(k), shape_.bits[k]);
        else
            s.set("b0", shape_.bits[static_cast<size_t>(i)]);
        return s;
    }
    std::string op_;
    Canonical shape_;
    KernelCache* cache_;
    std::shared_ptr<Kernel> fwd_;
    std::vector<std::shared_ptr<Kernel>> bwd_;
};

// Concatenate(axis): each sample is `outer` runs, one from each input in turn (the input's extent
// on the axis times the axes after it); backward copies the runs of dL/dy back.
class ConcatenateOp : public MergeOp {
  public:
    explicit ConcatenateOp(const LowerContext& ctx) {
        const Shape& out = ctx.node.out;
        const int64_t rank = static_cast<int64_t>(out.rank()), a = ctx.node.args.integer("axis");
        const size_t axis = static_cast<size_t>((a < 0 ? a + rank + 1 : a) - 1);  // Keras counts the batch
        int64_t inner = 1;
        for (size_t d = axis + 1; d < out.rank(); ++d) inner *= out[d];
        for (size_t d = 0; d < axis; ++d) outer_ *= out[d];
        for (const Shape& s : ctx.node.ins) runs_.push_back(s[axis] * inner);
    }
    void forward_all(const std::vector<rt::View>& xs, const rt::View& y, const rt::StepInfo&) override {
        copy_runs(y, [&](size_t i, int64_t row) { return xs[i].data + row * runs_[i]; }, true);
    }
    void backward_all(const std::vector<rt::View>&, const rt::View&, const rt::View& dy, const std::vector<const rt::View*>& dxs, bool,
                      const rt::StepInfo&) override {
        copy_runs(dy, [&](size_t i, int64_t row) { return dxs[i] ? dxs[i]->data + row * runs_[i] : nullptr; }, false);
    }

  private:
    // For each row (the batch times `outer`), input i's run at `part(i, row)` to or from its place in `whole`.
    template <class Part>
    void copy_runs(const rt::View& whole, const Part& part, bool into_whole) const {
        const int64_t rows = whole.shape[0] * outer_;
        float* w = whole.data;
        for (int64_t row = 0; row < rows; ++row)
            for (size_t i = 0; i < runs_.size(); ++i) {
                const size_t bytes = static_cast<size_t>(runs_[i]) * sizeof(float);
                if (float* p = part(i, row)) into_whole ? std::memcpy(w, p, bytes) : std::memcpy(p, w, bytes);
                w += runs_[i];
            }
    }
    int64_t outer_ = 1;
    std::vector<int64_t> runs_;
};

}  // namespace

std::unique_ptr<rt::Op> lower_Add(const LowerContext& ctx) { return std::make_unique<ElementwiseMergeOp>(ctx, "add"); }
std::unique_ptr<rt::Op> lower_Subtract(const LowerContext& ctx) { return std::make_unique<ElementwiseMergeOp>(ctx, "subtract"); }
std::unique_ptr<rt::Op> lower_Multiply(const LowerContext& ctx) { return std::make_unique<ElementwiseMergeOp>(ctx, "multiply"); }
std::unique_ptr<rt::Op> lower_Average(const LowerContext& ctx) { return std::make_unique<ElementwiseMergeOp>(ctx, "average"); }
std::unique_ptr<rt::Op> lower_Maximum(const LowerContext& ctx) { return std::make_unique<ElementwiseMergeOp>(ctx, "maximum"); }
std::unique_ptr<rt::Op> lower_Minimum(const LowerContext& ctx) { return std::make_unique<ElementwiseMergeOp>(ctx, "minimum"); }
std::unique_ptr<rt::Op> lower_Concatenate(const LowerContext& ctx) { return std::make_unique<ConcatenateOp>(ctx); }

}  // namespace cnnc::engine
