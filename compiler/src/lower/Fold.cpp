#include "lower/Fold.h"

namespace cnnc::engine {

void AffineFold::apply(const rt::Tensor& w, const rt::Tensor* b, int64_t co) {
    scale_.resize({co}), shift_.resize({co});
    source_(scale_, shift_);
    kernel.resize(w.shape());
    for (int64_t i = 0; i < w.size(); ++i) kernel[i] = w[i] * scale_[i % co];
    bias.resize({co});
    for (int64_t c = 0; c < co; ++c) bias[c] = (b ? (*b)[c] : 0.f) * scale_[c] + shift_[c];
}

}  // namespace cnnc::engine
