#include "engine/Features.h"

#include <fmt/format.h>

#include <algorithm>

namespace cnnc::engine {

rt::LabeledRows extract_features(const Model& m, rt::Network& net, rt::LabeledRows in, const std::string& what) {
    const int64_t batch = kFeatureBatch, n = static_cast<int64_t>(in.labels.size());
    const Shape per = m.output();  // a value: begin() and end() must come from one object
    rt::Dims shape = {n};
    shape.insert(shape.end(), per.dims.begin(), per.dims.end());
    rt::LabeledRows out;
    out.x = rt::Tensor(shape);
    out.labels = std::move(in.labels);
    int64_t per_in = in.x.size() / std::max<int64_t>(n, 1), per_out = out.x.size() / std::max<int64_t>(n, 1);
    fmt::print("Extracting features of {} with {}: {} samples\n", what, m.name, n);
    for (int64_t b = 0; b < n; b += batch) {
        int64_t k = std::min(batch, n - b);
        rt::View x{in.x.data() + b * per_in, {k}};
        x.shape.insert(x.shape.end(), m.input.dims.begin(), m.input.dims.end());
        rt::View y = net.forward(x, rt::StepInfo{false, 0, 0});
        std::copy(y.data, y.data + k * per_out, out.x.data() + b * per_out);
    }
    return out;
}

}  // namespace cnnc::engine
