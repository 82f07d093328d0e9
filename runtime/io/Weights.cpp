#include "io/Weights.h"

#include <hdf5.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "Error.h"

namespace fs = std::filesystem;

namespace cnnc::rt {

namespace {

// HDF5 handles closed on scope exit; errors are ours to report, not HDF5's stack dumps.
struct Handle {
    hid_t id;
    herr_t (*close)(hid_t);
    Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
    ~Handle() {
        if (id >= 0) close(id);
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
};

struct Quiet {  // silence HDF5's automatic error printing while we read
    H5E_auto2_t fn;
    void* data;
    Quiet() {
        H5Eget_auto2(H5E_DEFAULT, &fn, &data);
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
    ~Quiet() { H5Eset_auto2(H5E_DEFAULT, fn, data); }
};

// A string-array attribute, fixed- or variable-length (h5py writes either).
bool read_strings(hid_t obj, const char* name, std::vector<std::string>& out) {
    if (H5Aexists(obj, name) <= 0) return false;
    Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
    Handle type(H5Aget_type(attr.id), H5Tclose);
    Handle space(H5Aget_space(attr.id), H5Sclose);
    hssize_t n = H5Sget_simple_extent_npoints(space.id);
    if (n < 0 || H5Tget_class(type.id) != H5T_STRING) return false;
    out.clear();
    if (H5Tis_variable_str(type.id) > 0) {
        std::vector<char*> ptrs(static_cast<size_t>(n));
        Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem.id, H5T_VARIABLE);
        if (H5Aread(attr.id, mem.id, ptrs.data()) < 0) return false;
        for (char* p : ptrs) out.emplace_back(p ? p : "");
        H5Dvlen_reclaim(mem.id, space.id, H5P_DEFAULT, ptrs.data());
    } else {
        size_t len = H5Tget_size(type.id);
        std::vector<char> buf(len * static_cast<size_t>(n) + 1, 0);
        if (H5Aread(attr.id, type.id, buf.data()) < 0) return false;
        for (hssize_t i = 0; i < n; ++i) {
            std::string s(buf.data() + static_cast<size_t>(i) * len, len);
            s.erase(s.find_last_not_of('\0') + 1);
            out.push_back(s);
        }
    }
    return true;
}

void write_strings(hid_t obj, const char* name, const std::vector<std::string>& v) {
    size_t len = 1;
    for (const auto& s : v) len = std::max(len, s.size());
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.id, len);
    H5Tset_strpad(type.id, H5T_STR_NULLPAD);
    hsize_t n = v.size();
    Handle space(n ? H5Screate_simple(1, &n, nullptr) : H5Screate(H5S_NULL), H5Sclose);
    Handle attr(H5Acreate2(obj, name, type.id, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    std::vector<char> buf(len * v.size(), 0);
    for (size_t i = 0; i < v.size(); ++i) std::copy(v[i].begin(), v[i].end(), buf.begin() + static_cast<long>(i * len));
    if (n) H5Awrite(attr.id, type.id, buf.data());
}

}  // namespace

WeightsFile read_weights(const std::string& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw UserError(path + ": no such weights file");
    Quiet quiet;
    if (H5Fis_hdf5(path.c_str()) <= 0) throw UserError(path + ": not an HDF5 file (corrupt, or not a weights file)");
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (file.id < 0) throw UserError(path + ": cannot open as HDF5");
    WeightsFile out;
    // Keras 2 / saved-model files keep the weights under model_weights/.
    hid_t root = file.id;
    std::unique_ptr<Handle> mw;
    if (H5Lexists(file.id, "model_weights", H5P_DEFAULT) > 0) {
        mw = std::make_unique<Handle>(H5Gopen2(file.id, "model_weights", H5P_DEFAULT), H5Gclose);
        root = mw->id;
    }
    if (!read_strings(root, "layer_names", out.layer_order)) {
        if (H5Lexists(root, "layers", H5P_DEFAULT) <= 0 && H5Lexists(root, "vars", H5P_DEFAULT) <= 0)
            throw UserError(path + ": not in a Keras HDF5 weights layout (no 'layer_names' attribute, no 'layers' group)");
        // Keras 3: walk every dataset.
        out.keras3 = true;
        struct Walk {
            WeightsFile* out;
            std::string file;
            static herr_t visit(hid_t loc, const char* name, const H5O_info_t* info, void* data) {
                auto* w = static_cast<Walk*>(data);
                if (info->type != H5O_TYPE_DATASET) return 0;
                Handle d(H5Dopen2(loc, name, H5P_DEFAULT), H5Dclose);
                Handle space(H5Dget_space(d.id), H5Sclose);
                int rank = H5Sget_simple_extent_ndims(space.id);
                std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
                H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
                Tensor t(Dims(dims.begin(), dims.end()));
                if (H5Dread(d.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data()) < 0) return -1;
                w->out->by_path[name] = std::move(t);
                return 0;
            }
        } walk{&out, path};
        if (H5Ovisit(root, H5_INDEX_NAME, H5_ITER_NATIVE, &Walk::visit, &walk) < 0) throw UserError(path + ": cannot read the weights");
        return out;
    }
    for (const auto& layer : out.layer_order) {
        Handle g(H5Gopen2(root, layer.c_str(), H5P_DEFAULT), H5Gclose);
        if (g.id < 0) throw UserError(path + ": layer '" + layer + "' is listed but has no group");
        LayerArrays la;
        read_strings(g.id, "weight_names", la.names);
        for (const auto& wn : la.names) {
            Handle d(H5Dopen2(g.id, wn.c_str(), H5P_DEFAULT), H5Dclose);
            if (d.id < 0) throw UserError(path + ": weight '" + layer + "/" + wn + "' is listed but missing");
            Handle space(H5Dget_space(d.id), H5Sclose);
            int rank = H5Sget_simple_extent_ndims(space.id);
            std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
            H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
            Dims shape(dims.begin(), dims.end());
            Tensor t(shape);
            if (H5Dread(d.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data()) < 0)
                throw UserError(path + ": cannot read weight '" + layer + "/" + wn + "'");
            la.arrays.push_back(std::move(t));
        }
        out.layers[layer] = std::move(la);
    }
    return out;
}

static void save_keras3(hid_t file, const std::string& path, const std::vector<Param*>& params) {
    Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.id, 1);
    for (const Param* p : params) {
        if (p->keras3_path.empty()) throw UserError(path + ": internal: " + p->name + " has no Keras 3 path");
        std::vector<hsize_t> dims(p->value.shape().begin(), p->value.shape().end());
        Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
        Handle d(H5Dcreate2(file, p->keras3_path.c_str(), H5T_IEEE_F32LE, space.id, lcpl.id, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
        if (d.id < 0 || H5Dwrite(d.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->value.data()) < 0)
            throw UserError(path + ": cannot write weight '" + p->keras3_path + "'");
    }
}

void save_weights(const std::string& path, const std::vector<Param*>& params) {
    const bool keras3 = path.size() >= 11 && path.compare(path.size() - 11, 11, ".weights.h5") == 0;
    // Group by top-level layer, keeping the model's order.
    std::vector<std::string> order;
    std::map<std::string, std::vector<std::pair<std::string, const Param*>>> groups;
    for (const Param* p : params) {
        std::string top = p->name.substr(0, p->name.find('/'));
        size_t last = p->name.rfind('/');
        std::string weight = p->name.substr(last + 1);
        std::string rest = p->name.substr(0, last);
        std::string leaf = rest.substr(rest.rfind('/') == std::string::npos ? 0 : rest.rfind('/') + 1);
        if (!groups.count(top)) order.push_back(top);
        groups[top].emplace_back(leaf + "/" + weight + ":0", p);
    }
    fs::path target(path);
    if (target.has_parent_path()) fs::create_directories(target.parent_path());
    std::string tmp = (target.has_parent_path() ? target.parent_path() / ("." + target.filename().string()) : fs::path("." + target.filename().string())).string() +
                      ".tmp." + std::to_string(getpid());
    {
        Quiet quiet;
        Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
        if (file.id < 0) throw UserError(path + ": cannot write the weights file");
        if (keras3) {
            try {
                save_keras3(file.id, path, params);
            } catch (...) {
                std::remove(tmp.c_str());
                throw;
            }
            order.clear();
        } else {
            write_strings(file.id, "layer_names", order);
            write_strings(file.id, "backend", {"cnnc"});
            write_strings(file.id, "keras_version", {"2.15.0"});
        }
        for (const auto& layer : order) {
            Handle g(H5Gcreate2(file.id, layer.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
            std::vector<std::string> names;
            for (const auto& [wn, p] : groups[layer]) names.push_back(wn);
            write_strings(g.id, "weight_names", names);
            Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
            H5Pset_create_intermediate_group(lcpl.id, 1);
            for (const auto& [wn, p] : groups[layer]) {
                std::vector<hsize_t> dims(p->value.shape().begin(), p->value.shape().end());
                Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
                Handle d(H5Dcreate2(g.id, wn.c_str(), H5T_IEEE_F32LE, space.id, lcpl.id, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
                if (d.id < 0 || H5Dwrite(d.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->value.data()) < 0) {
                    std::remove(tmp.c_str());
                    throw UserError(path + ": cannot write weight '" + layer + "/" + wn + "'");
                }
            }
        }
        if (H5Fflush(file.id, H5F_SCOPE_GLOBAL) < 0) throw UserError(path + ": cannot write the weights file");
    }
    std::error_code ec;
    fs::rename(tmp, target, ec);  // atomic: a crash never leaves a half-written file at `path`
    if (ec) {
        std::remove(tmp.c_str());
        throw UserError(path + ": cannot write the weights file (" + ec.message() + ")");
    }
}

void assign_layer(const std::string& path, const WeightsFile& f, const std::string& layer, const std::vector<Param*>& params) {
    auto it = f.layers.find(layer);
    if (it == f.layers.end()) throw UserError(path + ": no weights for layer '" + layer + "'");
    const LayerArrays& la = it->second;
    if (la.arrays.size() != params.size())
        throw UserError(path + ": layer '" + layer + "' has " + std::to_string(la.arrays.size()) + " weights in the file, the model's has " +
                        std::to_string(params.size()));
    for (size_t i = 0; i < params.size(); ++i) {
        if (la.arrays[i].shape() != params[i]->value.shape())
            throw UserError(path + ": weight '" + la.names[i] + "' has shape " + dims_str(la.arrays[i].shape()) + " in the file, but " +
                            params[i]->name + " is " + dims_str(params[i]->value.shape()));
        params[i]->value = la.arrays[i];
    }
}

}  // namespace cnnc::rt
