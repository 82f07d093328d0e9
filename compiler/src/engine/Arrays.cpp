#include "engine/Arrays.h"

#include <fmt/format.h>

#include <cmath>

#include "Error.h"
#include "builtins/Builtins.h"
#include "data/Npy.h"

namespace cnnc::engine {

bool keyed_arrays(const DatasetMember& m) { return m.source->name == "npy" && m.args.get("x").kind == Value::Kind::Dict; }

namespace {

const std::string& file_of(const Value& dict, const std::string& key) {
    for (const NamedValue& e : dict.args)
        if (e.name == key) return e.value.s;
    throw rt::UserError("no array for '" + key + "'");  // the checker matched every key
}

// The rows `ids` of `a`, in that order.
rt::Tensor take(const rt::Tensor& a, const std::vector<int64_t>& ids) {
    rt::Dims shape = a.shape();
    const int64_t row = a.size() / shape[0];
    shape[0] = static_cast<int64_t>(ids.size());
    rt::Tensor out(shape);
    for (size_t i = 0; i < ids.size(); ++i)
        std::copy(a.data() + ids[i] * row, a.data() + (ids[i] + 1) * row, out.data() + static_cast<int64_t>(i) * row);
    return out;
}

// `a` viewed as (N, shape...) when it holds that many values per sample.
rt::Tensor reshaped(rt::Tensor a, const Shape& shape, const std::string& file, const std::string& what) {
    const int64_t n = a.shape()[0];
    rt::Dims per(a.shape().begin() + 1, a.shape().end());
    if (rt::product(per) != shape.elements() || (per.size() == shape.rank() && per != shape.dims))
        throw rt::UserError(fmt::format("{}: samples of shape {}, but {} has shape {}", file, rt::dims_str(per), what, shape.str(false)));
    rt::Dims dims = {n};
    dims.insert(dims.end(), shape.dims.begin(), shape.dims.end());
    a.resize(dims);  // as many values: the data stays
    return a;
}

}  // namespace

Arrays load_arrays(const Model& m, const DatasetMember& mem, const std::vector<OutputTraining>& outs,
                   const std::function<std::string(const std::string&)>& path, float rescale) {
    Arrays a;
    std::vector<std::string> files;
    int64_t n = -1;
    auto read = [&](const std::string& written) {
        std::string file = path(written);
        rt::Tensor t = rt::load_npy_array(file);
        if (n >= 0 && t.shape()[0] != n)
            throw rt::UserError(fmt::format("{}: {} samples, but {} has {}", file, t.shape()[0], files.front(), n));
        n = t.shape()[0];
        files.push_back(file);
        return t;
    };
    for (const ModelInput& in : m.inputs) {
        rt::Tensor t = read(file_of(mem.args.get("x"), in.name));  // before files.back(): it adds the file
        rt::Tensor x = reshaped(std::move(t), in.shape, files.back(), fmt::format("input '{}'", in.name));
        if (rescale != 1.f)
            for (int64_t i = 0; i < x.size(); ++i) x[i] *= rescale;
        a.x.push_back(std::move(x));
    }
    for (size_t k = 0; k < outs.size(); ++k) {
        rt::Tensor y = read(file_of(mem.args.get("y"), outs[k].output));
        const Shape out = m.output(k);
        const std::string what = fmt::format("output '{}'", outs[k].output);
        if (outs[k].loss->name == "sparse_categorical_crossentropy") {  // the one loss of class ids against a wide output
            if (y.size() != n)
                throw rt::UserError(fmt::format("{}: {} takes one class id per sample ({} loss), but the array has shape {}", files.back(),
                                                what, outs[k].loss->name, rt::dims_str(y.shape())));
            const int64_t classes = out.dims.back();
            for (int64_t i = 0; i < n; ++i)
                if (y[i] != std::floor(y[i]) || y[i] < 0 || y[i] >= static_cast<float>(classes))
                    throw rt::UserError(fmt::format("{}: sample {} (counting from 0) has class id {}, but {} has {} classes (0 to {})",
                                                    files.back(), i, y[i], what, classes, classes - 1));
            y.resize({n, 1});  // as many values: the data stays
            a.y.push_back(std::move(y));
        } else {
            a.y.push_back(reshaped(std::move(y), out, files.back(), what));
        }
    }
    // The member's split and shuffle (member_order): the same samples of every array.
    if (auto order = member_order(mem.args, n)) {
        for (auto& x : a.x) x = take(x, *order);
        for (auto& y : a.y) y = take(y, *order);
    }
    return a;
}

}  // namespace cnnc::engine
