// Embedding in Halide: a gather of rows by token id, and a scatter-add of the output gradient into
// the rows that were used. Ids arrive as floats (the runtime's one tensor type), exact up to 2^24.
#include "kernels/KernelDef.h"
#include "kernels/Schedule.h"

namespace cnnc::engine {
using namespace Halide;

// embed_fwd(vocab, dim): out(d, t) = table(d, id(t)).
KernelDef build_embed_fwd(const KernelSpec& s) {
    const int vocab = s.i("vocab"), dim = s.i("dim");
    KernelDef k;
    ImageParam ids(Float(32), 1, "ids"), e(Float(32), 2, "e");
    dense_layout(e, {dim, vocab});
    Var d("d"), t("t");
    Func out("embed");
    out(d, t) = e(d, clamp(cast<int>(ids(t)), 0, vocab - 1));
    Var to("to"), ti("ti");  // GuardWithIf: a short sequence must not be shifted out of its buffer
    out.vectorize(d, sched::vector_width(dim)).split(t, to, ti, 64, TailStrategy::GuardWithIf).parallel(to);
    k.pipeline = Pipeline(out);
    k.inputs = {ids, e};
    return k;
}

// embed_bwd(vocab, dim): dL/dtable, each row the sum of dy over the positions holding its id.
KernelDef build_embed_bwd(const KernelSpec& s) {
    const int vocab = s.i("vocab"), dim = s.i("dim");
    KernelDef k;
    ImageParam ids(Float(32), 1, "ids"), dy(Float(32), 2, "dy");
    dense_layout(dy, {dim, 0});
    Var d("d"), v("v");
    RDom r(0, ids.dim(0).extent(), "r");
    Func acc("de_acc"), de("de");
    acc(d, v) = 0.f;
    acc(d, clamp(cast<int>(ids(r)), 0, vocab - 1)) += dy(d, r);
    de(d, v) = acc(d, v);
    de.output_buffer().dim(1).set_bounds(0, vocab);
    acc.compute_root().vectorize(d, sched::vector_width(dim)).update().vectorize(d, sched::vector_width(dim));
    k.pipeline = Pipeline(de);
    k.inputs = {ids, dy};
    return k;
}

}  // namespace cnnc::engine
