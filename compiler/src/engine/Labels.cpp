#include "engine/Labels.h"

#include <fmt/format.h>

#include <algorithm>

#include "Error.h"

namespace cnnc::engine {

rt::Tensor encode_labels(const std::vector<int32_t>& labels, const Dataset& ds, const LossKind& loss) {
    const int64_t n = static_cast<int64_t>(labels.size());
    if ((ds.labels.empty() ? loss.labels : ds.labels) != "one_hot") {
        rt::Tensor y({n, 1});
        for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(labels[static_cast<size_t>(i)]);
        return y;
    }
    int64_t k = ds.classes;
    if (k == 0)  // labels unset: as many classes as the largest label needs
        for (int32_t l : labels) k = std::max<int64_t>(k, int64_t(l) + 1);
    rt::Tensor y({n, k});
    y.fill(0);
    for (int64_t i = 0; i < n; ++i) {
        const int32_t l = labels[static_cast<size_t>(i)];
        if (l < 0 || l >= k)
            throw rt::UserError(fmt::format("dataset '{}': label {} of sample {} does not fit one_hot({})", ds.name, l, i + 1, k));
        y[i * k + l] = 1;
    }
    return y;
}

}  // namespace cnnc::engine
