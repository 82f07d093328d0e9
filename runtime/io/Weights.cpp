#include "io/Weights.h"

#include <hdf5.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <algorithm>

#include <filesystem>
#include <functional>

#include "Error.h"
#include "io/ChildProcess.h"

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

// A string-array attribute, fixed- or variable-length (h5py writes either). Its declared size is
// checked against `limit` (the file's size: an attribute's data is stored whole in the file)
// before anything is allocated.
bool read_attribute(hid_t obj, const char* name, std::vector<std::string>& out, uint64_t limit, const std::string& path) {
    Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
    Handle type(H5Aget_type(attr.id), H5Tclose);
    Handle space(H5Aget_space(attr.id), H5Sclose);
    hssize_t n = H5Sget_simple_extent_npoints(space.id);
    if (n < 0 || H5Tget_class(type.id) != H5T_STRING) return false;
    size_t item = H5Tis_variable_str(type.id) > 0 ? 1 : H5Tget_size(type.id);
    if (item == 0 || static_cast<uint64_t>(n) > limit / item)
        throw UserError(path + ": attribute '" + name + "' declares more data than the file holds (corrupt file)");
    if (H5Tis_variable_str(type.id) > 0) {
        std::vector<char*> ptrs(static_cast<size_t>(n));
        Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem.id, H5T_VARIABLE);
        // h5py 3 writes a Python str as UTF-8, bytes as ASCII; HDF5 converts neither into the other.
        H5Tset_cset(mem.id, H5Tget_cset(type.id));
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

// A string-array attribute, whole or split: Keras writes one too large for an HDF5 object header
// as `<name>0`, `<name>1`, ... (legacy_h5_format.py, save_attributes_to_hdf5_group), and reads
// the parts back in order (load_attributes_from_hdf5_group).
bool read_strings(hid_t obj, const char* name, std::vector<std::string>& out, uint64_t limit, const std::string& path) {
    out.clear();
    if (H5Aexists(obj, name) > 0) return read_attribute(obj, name, out, limit, path);
    for (int part = 0;; ++part) {
        const std::string piece = name + std::to_string(part);
        if (H5Aexists(obj, piece.c_str()) <= 0) return part > 0;
        std::vector<std::string> chunk;
        if (!read_attribute(obj, piece.c_str(), chunk, limit, path)) return false;
        out.insert(out.end(), chunk.begin(), chunk.end());
    }
}

// A string-array attribute as Keras 2 writes a list of bytes (legacy_h5_format.py,
// save_attributes_to_hdf5_group: `group.attrs[name] = data`): fixed-length ASCII, NUL-padded. An
// empty list becomes numpy's empty float64 array, as np.asarray([]) makes it.
void write_strings(hid_t obj, const char* name, const std::vector<std::string>& v) {
    size_t len = 1;
    for (const auto& s : v) len = std::max(len, s.size());
    Handle type(v.empty() ? H5Tcopy(H5T_IEEE_F64LE) : H5Tcopy(H5T_C_S1), H5Tclose);
    if (!v.empty()) {
        H5Tset_size(type.id, len);
        H5Tset_strpad(type.id, H5T_STR_NULLPAD);
    }
    hsize_t n = v.size();
    Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    Handle attr(H5Acreate2(obj, name, type.id, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    std::vector<char> buf(len * v.size(), 0);
    for (size_t i = 0; i < v.size(); ++i) std::copy(v[i].begin(), v[i].end(), buf.begin() + static_cast<long>(i * len));
    if (n) H5Awrite(attr.id, type.id, buf.data());
}

}  // namespace

struct OpenWeightsFile {
    hid_t id;
    std::string path;
    ~OpenWeightsFile() { H5Fclose(id); }
    OpenWeightsFile(const OpenWeightsFile&) = delete;
    OpenWeightsFile& operator=(const OpenWeightsFile&) = delete;
};

namespace {

// A dataset's declared shape, without reading it. Dimensions beyond int64 are refused here; any
// other size is only compared with the model's before its data is read.
StoredArray describe(hid_t loc, const char* name, const std::shared_ptr<const OpenWeightsFile>& file) {
    Handle d(H5Dopen2(loc, name, H5P_DEFAULT), H5Dclose);
    if (d.id < 0) throw UserError(file->path + ": cannot open weight '" + name + "'");
    Handle space(H5Dget_space(d.id), H5Sclose);
    int rank = H5Sget_simple_extent_ndims(space.id);
    if (rank < 0) throw UserError(file->path + ": weight '" + name + "' has no readable shape");
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
    StoredArray a;
    for (hsize_t x : dims) {
        if (x > static_cast<hsize_t>(INT64_MAX)) throw UserError(file->path + ": weight '" + name + "' declares an impossible shape");
        a.dims.push_back(static_cast<int64_t>(x));
    }
    a.file = file;
    return a;
}

}  // namespace

void StoredArray::read_into(Tensor& into, const std::string& variable) const {
    if (into.shape() != dims) throw UserError(file->path + ": weight '" + dataset + "' does not have the shape of " + variable);
    Quiet quiet;
    Handle d(H5Dopen2(file->id, dataset.c_str(), H5P_DEFAULT), H5Dclose);
    if (d.id < 0 || H5Dread(d.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, into.data()) < 0)
        throw UserError(file->path + ": cannot read weight '" + dataset + "' (for " + variable + ")");
    for (int64_t i = 0; i < into.size(); ++i)
        if (!std::isfinite(into[i]))
            throw UserError(file->path + ": weight '" + dataset + "' (for " + variable + ") holds " +
                            (std::isnan(into[i]) ? "NaN" : "an infinite value") + " at index " + std::to_string(i));
}

int64_t StoredArray::read_integer(const std::string& variable) const {
    if (!dims.empty() && !(dims.size() == 1 && dims[0] == 1))
        throw UserError(file->path + ": weight '" + dataset + "' has shape " + dims_str(dims) + " in the file, but " + variable + " is a scalar");
    Quiet quiet;
    int64_t v = 0;
    Handle d(H5Dopen2(file->id, dataset.c_str(), H5P_DEFAULT), H5Dclose);
    Handle type(d.id < 0 ? -1 : H5Dget_type(d.id), H5Tclose);
    if (d.id < 0 || H5Tget_class(type.id) != H5T_INTEGER || H5Dread(d.id, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0)
        throw UserError(file->path + ": cannot read weight '" + dataset + "' as an integer (for " + variable + ")");
    return v;
}

namespace {

// tf.keras 2.13-2.15 wrote `.weights.h5` with this group where Keras 3 has "layers"; Keras 3
// reads such a file by renaming "layers" in the path it looks for (saving_lib.py, H5IOStore.get,
// "Fix for 2.13 compatibility": master L1410-1417, v3.5.0 L966-975; v3.0.0's get() has none).
constexpr const char* kTfKerasLayers = "_layer_checkpoint_dependencies";

// A dataset's path as Keras 3 names it: tf.keras 2.13's containers renamed "layers".
std::string keras3_name(std::string path) {
    const std::string from = kTfKerasLayers;
    for (size_t at = 0; (at = path.find(from, at)) != std::string::npos;) {
        const bool whole = (at == 0 || path[at - 1] == '/') && (at + from.size() == path.size() || path[at + from.size()] == '/');
        if (whole) path.replace(at, from.size(), "layers");
        at += whole ? 6 : from.size();
    }
    return path;
}

// read_weights() within this process: the layout and every array's shape.
WeightsFile open_weights(const std::string& path, uint64_t size) {
    Quiet quiet;
    if (H5Fis_hdf5(path.c_str()) <= 0) throw UserError(path + ": not an HDF5 file (corrupt, or not a weights file)");
    hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id < 0) throw UserError(path + ": cannot open as HDF5");
    std::shared_ptr<const OpenWeightsFile> file(new OpenWeightsFile{id, path});  // one owner closes it
    WeightsFile out;
    // Keras 2 / saved-model files keep the weights under model_weights/.
    std::string root;  // the prefix of every dataset's path in the file
    if (H5Lexists(id, "model_weights", H5P_DEFAULT) > 0) root = "model_weights/";
    Handle rg(H5Gopen2(id, root.empty() ? "/" : root.c_str(), H5P_DEFAULT), H5Gclose);
    if (rg.id < 0) throw UserError(path + ": cannot open group " + root);
    if (!read_strings(rg.id, "layer_names", out.layer_order, size, path)) {
        if (H5Lexists(rg.id, "layers", H5P_DEFAULT) <= 0 && H5Lexists(rg.id, "vars", H5P_DEFAULT) <= 0 &&
            H5Lexists(rg.id, kTfKerasLayers, H5P_DEFAULT) <= 0)
            throw UserError(path +
                            ": not in a Keras HDF5 weights layout; tried Keras 2's .h5 (a 'layer_names' attribute, whole or split, at the "
                            "root or under 'model_weights'), Keras 3's .weights.h5 (a 'vars' or 'layers' group) and tf.keras 2.13-2.15's "
                            ".weights.h5 (a '_layer_checkpoint_dependencies' group)");
        // Keras 3: every dataset's path and shape. No C++ exception may unwind through HDF5's C
        // frames: the callback keeps the first error and stops the walk.
        out.keras3 = true;
        struct Walk {
            WeightsFile* out;
            std::shared_ptr<const OpenWeightsFile> file;
            std::string root, error;
            static herr_t visit(hid_t loc, const char* name, const H5O_info_t* info, void* data) {
                auto* w = static_cast<Walk*>(data);
                if (info->type != H5O_TYPE_DATASET) return 0;
                try {
                    StoredArray a = describe(loc, name, w->file);
                    a.dataset = w->root + name;
                    w->out->by_path[keras3_name(name)] = std::move(a);
                    return 0;
                } catch (const std::exception& e) {
                    w->error = e.what();
                    return -1;
                }
            }
        } walk{&out, file, root, ""};
        if (H5Ovisit(rg.id, H5_INDEX_NAME, H5_ITER_NATIVE, &Walk::visit, &walk) < 0)
            throw UserError(walk.error.empty() ? path + ": cannot read the weights" : walk.error);
        // The optimizer's name, which Keras >= 3.6 writes (saving_lib.py master L797-798).
        std::vector<std::string> name;
        if (H5Lexists(rg.id, "optimizer", H5P_DEFAULT) > 0 && H5Lexists(rg.id, "optimizer/vars", H5P_DEFAULT) > 0) {
            Handle g(H5Gopen2(rg.id, "optimizer/vars", H5P_DEFAULT), H5Gclose);
            if (g.id >= 0 && H5Aexists(g.id, "name") > 0 && read_attribute(g.id, "name", name, size, path) && name.size() == 1)
                out.optimizer_name = name[0];
        }
        return out;
    }
    for (const auto& layer : out.layer_order) {
        Handle g(H5Gopen2(rg.id, layer.c_str(), H5P_DEFAULT), H5Gclose);
        if (g.id < 0) throw UserError(path + ": layer '" + layer + "' is listed but has no group");
        LayerArrays la;
        read_strings(g.id, "weight_names", la.names, size, path);
        for (const auto& wn : la.names) {
            if (H5Lexists(g.id, wn.c_str(), H5P_DEFAULT) <= 0) throw UserError(path + ": weight '" + layer + "/" + wn + "' is listed but missing");
            StoredArray a = describe(g.id, wn.c_str(), file);
            a.dataset = root + layer + "/" + wn;
            la.arrays.push_back(std::move(a));
        }
        out.layers[layer] = std::move(la);
    }
    return out;
}

// Every array of `w` read once (those that could hold at most `limit` floats), to meet whatever
// HDF5 meets in their data.
void read_every_array(const WeightsFile& w, uint64_t limit) {
    auto read = [&](const StoredArray& a) {
        uint64_t n = 1;
        for (int64_t d : a.dims) n = d == 0 || n <= limit / uint64_t(d) ? n * uint64_t(d) : limit + 1;
        if (n > limit) return;
        Tensor t(a.dims);
        a.read_into(t, a.dataset);
    };
    for (const auto& [name, layer] : w.layers)
        for (const StoredArray& a : layer.arrays) read(a);
    for (const auto& [name, a] : w.by_path) read(a);
}

// Debian's HDF5 (1.10.8) crashes on some damaged files: a null pointer when a group's local heap
// is corrupt, a read past an attribute's name that lacks its NUL; and on some it does not end
// (tests/fuzz/fuzz_weights found all three; reproducers of the first two in
// tests/fuzz/regressions/weights/). A weights file is user input, so a child process reads it
// first as this process will, metadata and data: if HDF5 kills the child, or keeps it past a
// limit generous for a real file (5 s, plus a second for each 10 MB, which even a slow disk
// reads, inflating included), the file is refused with a clear error instead of taking cnnc down
// or hanging it. A clear error in the child is left for this process to meet and report itself.
void read_in_a_child_first(const std::string& path, uint64_t size) {
    const auto limit = std::chrono::seconds(5 + size / 10'000'000);
    // Deflate expands at most 1032:1; an array declared beyond that is refused later.
    ChildEnd end = run_in_child([&] { read_every_array(open_weights(path, size), size / sizeof(float) * 1032); }, limit);
    if (end.how == ChildEnd::Crashed)
        throw UserError(path + ": corrupt HDF5 file (the HDF5 library crashed reading it: " + strsignal(end.signal) + ")");
    if (end.how == ChildEnd::Failed) throw UserError(path + ": corrupt HDF5 file (the HDF5 library failed reading it)");
    if (end.how == ChildEnd::TimedOut)
        throw UserError(path + ": corrupt HDF5 file (the HDF5 library did not finish reading it in " + std::to_string(limit.count()) + " s)");
    // NoChild (no process to spare): read in this process alone, as before.
}

}  // namespace

WeightsFile read_weights(const std::string& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw UserError(path + ": no such weights file");
    const uint64_t size = fs::file_size(path, ec);
    read_in_a_child_first(path, size);
    return open_weights(path, size);
}

namespace {

// An array dataset as h5py writes `group[key] = value`: contiguous, no filters.
void write_array(hid_t loc, const std::string& name, hid_t file_type, hid_t mem_type, const Dims& shape, const void* data,
                 const std::string& path) {
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    Handle space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.id, 1);
    Handle d(H5Dcreate2(loc, name.c_str(), file_type, space.id, lcpl.id, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    if (d.id < 0 || H5Dwrite(d.id, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        throw UserError(path + ": cannot write weight '" + name + "'");
}

// A scalar string attribute as h5py 3 writes a Python str (UTF-8: Keras 3's `name`) or bytes
// (ASCII: Keras 2's `backend`, `keras_version`): variable-length either way.
void write_scalar_string(hid_t obj, const char* name, const std::string& value, bool utf8) {
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.id, H5T_VARIABLE);
    H5Tset_cset(type.id, utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    Handle attr(H5Acreate2(obj, name, type.id, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    const char* p = value.c_str();
    H5Awrite(attr.id, type.id, &p);
}

// A `vars` group of Keras 3's layout, with the name Keras >= 3.6 gives it (saving_lib.py: H5IOStore
// creates "<path>/vars" and writes the saveable's `{"name": ...}` metadata as its attributes).
hid_t create_vars(hid_t file, const KerasGroup& g) {
    Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.id, 1);
    const std::string at = g.path.empty() ? "vars" : g.path + "/vars";
    hid_t id = H5Gcreate2(file, at.c_str(), lcpl.id, H5P_DEFAULT, H5P_DEFAULT);
    if (id >= 0 && !g.name.empty()) write_scalar_string(id, "name", g.name, true);
    return id;
}

// The groups of a file written from the params alone: the model's (unnamed) and each variable's.
std::vector<KerasGroup> groups_of(const std::vector<Param*>& params) {
    std::vector<KerasGroup> out{{"", ""}};
    for (const Param* p : params) {
        std::string group = p->keras3_path.substr(0, p->keras3_path.rfind("/vars/"));
        std::string layer = p->name.substr(0, p->name.rfind('/'));
        if (out.back().path != group) out.push_back({group, layer.substr(layer.rfind('/') + 1)});
    }
    return out;
}

// Keras 3's `.weights.h5` (saving_lib.py, save_weights_only -> _save_state): every saveable's
// `vars` group, its variables "0", "1"... inside, then the optimizer's.
void save_keras3(hid_t file, const std::string& path, const std::vector<Param*>& params, const KerasState& keras) {
    for (const KerasGroup& g : keras.groups.empty() ? groups_of(params) : keras.groups) {
        Handle vars(create_vars(file, g), H5Gclose);
        if (vars.id < 0) throw UserError(path + ": cannot write group '" + g.path + "/vars'");
    }
    for (const Param* p : params) {
        if (p->keras3_path.empty()) throw UserError(path + ": internal: " + p->name + " has no Keras 3 path");
        write_array(file, p->keras3_path, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, p->value.shape(), p->value.data(), path);
    }
    if (!keras.optimizer) return;
    const OptimizerVars& o = *keras.optimizer;
    Handle vars(create_vars(file, {"optimizer", o.name}), H5Gclose);
    if (vars.id < 0) throw UserError(path + ": cannot write group 'optimizer/vars'");
    write_array(vars.id, "0", H5T_STD_I64LE, H5T_NATIVE_INT64, {}, &o.iterations, path);
    write_array(vars.id, "1", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {}, &o.learning_rate, path);
    for (size_t i = 0; i < o.slots.size(); ++i)
        write_array(vars.id, std::to_string(i + 2), H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, o.slots[i]->shape(), o.slots[i]->data(), path);
}

// One layer of Keras 2's layout: its name and its variables under their weight names.
struct LegacyLayer {
    std::string name;
    std::vector<std::pair<std::string, const Param*>> weights;
};

// Keras 2's layers: the model's top-level layers (weightless ones too, as model.layers lists
// them), each holding its own and its sub-layers' variables, trainable ones first
// (legacy_h5_format.py, _legacy_weights: layer.trainable_weights + layer.non_trainable_weights).
// Without groups, each top-level component of the params' names is a layer.
std::vector<LegacyLayer> legacy_layers(const std::vector<Param*>& params, const std::vector<KerasGroup>& groups) {
    std::vector<LegacyLayer> out;
    std::vector<std::string> prefixes;  // each layer's path (Keras 3's, or the params' top component), with its '/'
    for (const KerasGroup& g : groups)
        if (!g.path.empty() && g.path.find("/layers/") == std::string::npos) {
            std::string name = g.name;
            for (int k = 1; std::any_of(out.begin(), out.end(), [&](const LegacyLayer& l) { return l.name == name; }); ++k)
                name = g.name + "_" + std::to_string(k);  // names restart inside blocks; Keras' are unique
            out.push_back({name, {}});
            prefixes.push_back(g.path + "/");
        }
    if (groups.empty())
        for (const Param* p : params) {
            const std::string top = p->name.substr(0, p->name.find('/'));
            if (out.empty() || out.back().name != top) out.push_back({top, {}}), prefixes.push_back(top + "/");
        }
    for (bool trainable : {true, false})
        for (const Param* p : params) {
            if (p->trainable != trainable) continue;
            const size_t last = p->name.rfind('/');
            const std::string layer = p->name.substr(0, last);
            const std::string& key = groups.empty() ? p->name : p->keras3_path;
            size_t k = 0;
            while (k < out.size() && key.rfind(prefixes[k], 0) != 0) ++k;
            if (k == out.size()) throw UserError("internal: weight " + p->name + " is in no Keras layer");
            // A variable's path is its layer's name and its own: the top-level layer's Keras name
            // for its own variables, a nested model's layer's name for those inside it.
            const bool own = !groups.empty() && key.compare(prefixes[k].size(), 5, "vars/") == 0;
            const std::string weight = (own ? out[k].name : layer.substr(layer.rfind('/') + 1)) + "/" + p->name.substr(last + 1) + ":0";
            out[k].weights.emplace_back(weight, p);
        }
    return out;
}

// Keras 2's `.h5` (legacy_h5_format.py, save_weights_to_hdf5_group): `layer_names`, scalar
// `backend` and `keras_version`, a group per layer with its `weight_names`.
void save_keras2(hid_t file, const std::string& path, const std::vector<Param*>& params, const KerasState& keras) {
    const std::vector<LegacyLayer> layers = legacy_layers(params, keras.groups);
    std::vector<std::string> names;
    for (const LegacyLayer& l : layers) names.push_back(l.name);
    write_strings(file, "layer_names", names);
    write_scalar_string(file, "backend", "cnnc", false);
    write_scalar_string(file, "keras_version", "2.15.0", false);
    for (const LegacyLayer& l : layers) {
        Handle g(H5Gcreate2(file, l.name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
        if (g.id < 0) throw UserError(path + ": cannot write layer '" + l.name + "'");
        std::vector<std::string> weight_names;
        for (const auto& [wn, p] : l.weights) weight_names.push_back(wn);
        write_strings(g.id, "weight_names", weight_names);
        for (const auto& [wn, p] : l.weights)
            write_array(g.id, wn, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, p->value.shape(), p->value.data(), path + ": " + l.name);
    }
}

}  // namespace

void save_weights(const std::string& path, const std::vector<Param*>& params, StagedFiles* batch, const KerasState& keras) {
    const bool keras3 = path.size() >= 11 && path.compare(path.size() - 11, 11, ".weights.h5") == 0;
    // The file is built in memory (HDF5's core driver, no backing store) and written by us: HDF5
    // never meets a full disk, which it survives badly (a crash at exit), and the bytes go through
    // the same atomic, staged writes as every other output.
    std::string image;
    {
        Quiet quiet;
        Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
        H5Pset_fapl_core(fapl.id, 1 << 20, 0);
        // A name of its own: HDF5 refuses to create a file it has open under the same name.
        static std::atomic<unsigned> counter{0};
        std::string name = "cnnc-in-memory-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".h5";
        Handle file(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id), H5Fclose);
        if (file.id < 0) throw UserError(path + ": cannot build the weights file in memory");
        if (keras3)
            save_keras3(file.id, path, params, keras);
        else
            save_keras2(file.id, path, params, keras);
        ssize_t size = H5Fflush(file.id, H5F_SCOPE_GLOBAL) < 0 ? -1 : H5Fget_file_image(file.id, nullptr, 0);
        if (size < 0) throw UserError(path + ": cannot build the weights file in memory");
        image.resize(static_cast<size_t>(size));
        if (H5Fget_file_image(file.id, image.data(), image.size()) != size) throw UserError(path + ": cannot build the weights file in memory");
    }
    if (batch) {
        batch->stage_contents(path, image);
        return;
    }
    write_file_atomically(path, image);
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
        la.arrays[i].read_into(params[i]->value, params[i]->name);
    }
}

}  // namespace cnnc::rt
