#include "engine/Predict.h"

#include <fmt/format.h>

#include <algorithm>

#include "ir/Activation.h"

namespace cnnc::engine {

rt::Tensor read_images(const std::vector<std::string>& images, const Model& m, const rt::ImageFolderOptions& o, float scale) {
    const rt::Dims& in = m.input.dims;
    const int64_t n = static_cast<int64_t>(images.size()), per = m.input.elements();
    rt::Tensor x({n, in[0], in[1], in[2]});
    for (int64_t i = 0; i < n; ++i) {
        rt::Tensor img = rt::load_image(images[static_cast<size_t>(i)], o);
        for (int64_t k = 0; k < per; ++k) x[i * per + k] = img[k] * scale;
    }
    return x;
}

void print_predictions(const std::vector<std::string>& images, const rt::View& y, const std::vector<std::string>& classes,
                       const std::string& act) {
    const int64_t n = static_cast<int64_t>(images.size()), k = y.size() / n;
    auto name = [&](int64_t c) { return c < static_cast<int64_t>(classes.size()) ? classes[static_cast<size_t>(c)] : std::to_string(c); };
    for (int64_t i = 0; i < n; ++i) {
        const float* p = y.data + i * k;
        if (k == 1) {  // one sigmoid unit: the probability of class 1
            int64_t c = p[0] >= 0.5f ? 1 : 0;
            fmt::print("{}: {} ({:.4f})  [{}: {:.4f}, {}: {:.4f}]\n", images[static_cast<size_t>(i)], name(c), c ? p[0] : 1 - p[0],
                       name(0), 1 - p[0], name(1), p[0]);
            continue;
        }
        int64_t c = std::max_element(p, p + k) - p;
        std::string probs;
        for (int64_t j = 0; j < k; ++j) probs += fmt::format("{}{}: {:.4f}", j ? ", " : "", name(j), p[j]);
        fmt::print("{}: {} ({:.4f})  [{}]{}\n", images[static_cast<size_t>(i)], name(c), p[c], probs,
                   activation_traits(act).probabilities ? "" : "  (outputs, not probabilities: the model's last activation is " + act + ")");
    }
}

}  // namespace cnnc::engine
