#include "data/Resize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace cnnc::rt {

namespace {

// One input sample contributing to an output coordinate.
struct Tap {
    int index;
    double weight;
};

// Keys' cubic weights as TF tabulates them: entry i holds the weights at distances i/1024 and
// 1 + i/1024, in float.
const std::vector<float>& keys_table() {
    static const std::vector<float> table = [] {
        constexpr int kSize = 1024;
        const float a = -0.5f;
        std::vector<float> t((kSize + 1) * 2);
        for (int i = 0; i <= kSize; ++i) {
            float x = static_cast<float>(i * 1.0 / kSize);
            t[static_cast<size_t>(i) * 2] = ((a + 2) * x - (a + 3)) * x * x + 1;
            x += 1.0f;
            t[static_cast<size_t>(i) * 2 + 1] = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        }
        return t;
    }();
    return table;
}

// The taps of output coordinate `o` along an axis of `n` input samples resized to `out`.
std::vector<Tap> taps(Interpolation m, int o, int n, int out) {
    const double s = static_cast<double>(n) / out;
    switch (m) {
        case Interpolation::nearest:
            return {{std::clamp(static_cast<int>(std::floor((o + 0.5) * s)), 0, n - 1), 1.0}};
        case Interpolation::bilinear: {
            double f = std::clamp((o + 0.5) * s - 0.5, 0.0, n - 1.0);
            int i0 = static_cast<int>(f), i1 = std::min(i0 + 1, n - 1);
            return {{i0, 1 - (f - i0)}, {i1, f - i0}};
        }
        case Interpolation::bicubic: {
            constexpr int kSize = 1024;
            const float scale = static_cast<float>(n) / static_cast<float>(out);
            const float f = (static_cast<float>(o) + 0.5f) * scale - 0.5f;
            const int at = static_cast<int>(std::floor(f));
            const int offset = static_cast<int>(std::lrintf((f - static_cast<float>(at)) * kSize));
            const std::vector<float>& t = keys_table();
            const float w[4] = {t[static_cast<size_t>(offset) * 2 + 1], t[static_cast<size_t>(offset) * 2],
                                t[static_cast<size_t>(kSize - offset) * 2], t[static_cast<size_t>(kSize - offset) * 2 + 1]};
            std::vector<Tap> r;
            float sum = 0;
            for (int k = 0; k < 4; ++k) {
                int i = at - 1 + k;
                if (i < 0 || i >= n) continue;  // outside the image: weight 0
                r.push_back({i, w[k]});
                sum += w[k];
            }
            for (Tap& tap : r) tap.weight = static_cast<double>(static_cast<float>(tap.weight) / sum);
            return r;
        }
        case Interpolation::area: {
            const float scale = static_cast<float>(n) / static_cast<float>(out);
            const float lo = static_cast<float>(o) * scale, hi = static_cast<float>(o + 1) * scale;
            std::vector<Tap> r;
            for (int64_t v = static_cast<int64_t>(std::floor(lo)); static_cast<float>(v) < hi; ++v) {
                float part = std::min(static_cast<float>(v + 1), hi) - std::max(static_cast<float>(v), lo);
                r.push_back({static_cast<int>(std::min<int64_t>(v, n - 1)), static_cast<double>(part) / scale});
            }
            return r;
        }
    }
    return {};
}

}  // namespace

void resize_image(const unsigned char* src, int sw, int sh, int c, float* dst, int dw, int dh, Interpolation m, int cx, int cy, int cw,
                  int ch) {
    if (cw < 0) cw = sw;
    if (ch < 0) ch = sh;
    std::vector<std::vector<Tap>> xs(static_cast<size_t>(dw));
    for (int x = 0; x < dw; ++x) xs[static_cast<size_t>(x)] = taps(m, x, cw, dw);
    std::vector<double> acc(static_cast<size_t>(c));
    for (int y = 0; y < dh; ++y) {
        const std::vector<Tap> ys = taps(m, y, ch, dh);
        for (int x = 0; x < dw; ++x) {
            std::fill(acc.begin(), acc.end(), 0.0);
            for (const Tap& ty : ys) {
                const unsigned char* row = src + (static_cast<int64_t>(ty.index + cy) * sw + cx) * c;
                for (int k = 0; k < c; ++k) {
                    double line = 0;  // separable: the order of the axes changes only rounding
                    for (const Tap& tx : xs[static_cast<size_t>(x)]) line += tx.weight * row[static_cast<int64_t>(tx.index) * c + k];
                    acc[static_cast<size_t>(k)] += ty.weight * line;
                }
            }
            float* out = dst + (static_cast<int64_t>(y) * dw + x) * c;
            for (int k = 0; k < c; ++k) out[k] = static_cast<float>(acc[static_cast<size_t>(k)]);
        }
    }
}

}  // namespace cnnc::rt
