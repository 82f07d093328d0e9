// The reshaping kernels' static arguments: what the ops (Op.cpp) know about ZeroPadding2D,
// Cropping2D and UpSampling2D and the builders (Kernels.cpp) need to generate code, to and from a KernelSpec. Part
// of the `kernel` layer (docs/ARCHITECTURE.md): no Halide, since the ops run in `cnnc build`
// executables.
#pragma once
#include <string>

#include "kernel/Kernel.h"

namespace cnnc::engine {

// An image moved by (left, top) into an image of another size, zeros where nothing lands: padding
// when the offsets are positive, a crop when they are negative. Builder: border.
struct BorderCfg {
    int c, w, h;    // input
    int ow, oh;     // output
    int left, top;  // where the input's (0, 0) lands in the output
    KernelSpec spec() const {
        return KernelSpec("border").set("c", c).set("w", w).set("h", h).set("ow", ow).set("oh", oh).set("left", left).set("top", top);
    }
    static BorderCfg from(const KernelSpec& s) {
        return {s.i("c"), s.i("w"), s.i("h"), s.i("ow"), s.i("oh"), s.i("left"), s.i("top")};
    }
    // The gradient's kernel: the output's gradient moved back, a crop of a padding and the reverse.
    BorderCfg inverse() const { return {c, ow, oh, w, h, -left, -top}; }
};

// An image sw times wider and sh times taller (UpSampling2D). Nearest: each pixel repeated.
// Bilinear: Keras 3's resize with half-pixel centres, source (x + 0.5) / sw - 0.5 clamped to the
// image, the two nearest pixels each way weighted by distance. Builders: upsample_fwd, and
// upsample_bwd, which hands each output's gradient back to the pixels it was made from.
struct UpsampleCfg {
    int c, w, h;  // input
    int sw, sh;
    bool bilinear;
    KernelSpec spec(const std::string& name) const {
        return KernelSpec(name).set("c", c).set("w", w).set("h", h).set("sw", sw).set("sh", sh).set("bilinear", bilinear);
    }
    static UpsampleCfg from(const KernelSpec& s) { return {s.i("c"), s.i("w"), s.i("h"), s.i("sw"), s.i("sh"), s.b("bilinear")}; }
};

}  // namespace cnnc::engine
