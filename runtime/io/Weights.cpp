#include "io/Weights.h"

#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>

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

// A string-array attribute, fixed- or variable-length (h5py writes either). Its declared size is
// checked against `limit` (the file's size: an attribute's data is stored whole in the file)
// before anything is allocated.
bool read_strings(hid_t obj, const char* name, std::vector<std::string>& out, uint64_t limit, const std::string& path) {
    if (H5Aexists(obj, name) <= 0) return false;
    Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
    Handle type(H5Aget_type(attr.id), H5Tclose);
    Handle space(H5Aget_space(attr.id), H5Sclose);
    hssize_t n = H5Sget_simple_extent_npoints(space.id);
    if (n < 0 || H5Tget_class(type.id) != H5T_STRING) return false;
    size_t item = H5Tis_variable_str(type.id) > 0 ? 1 : H5Tget_size(type.id);
    if (item == 0 || static_cast<uint64_t>(n) > limit / item)
        throw UserError(path + ": attribute '" + name + "' declares more data than the file holds (corrupt file)");
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

namespace {

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
        if (H5Lexists(rg.id, "layers", H5P_DEFAULT) <= 0 && H5Lexists(rg.id, "vars", H5P_DEFAULT) <= 0)
            throw UserError(path + ": not in a Keras HDF5 weights layout (no 'layer_names' attribute, no 'layers' group)");
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
                    w->out->by_path[name] = std::move(a);
                    return 0;
                } catch (const std::exception& e) {
                    w->error = e.what();
                    return -1;
                }
            }
        } walk{&out, file, root, ""};
        if (H5Ovisit(rg.id, H5_INDEX_NAME, H5_ITER_NATIVE, &Walk::visit, &walk) < 0)
            throw UserError(walk.error.empty() ? path + ": cannot read the weights" : walk.error);
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
// is corrupt, a read past an attribute's name that lacks its NUL (tests/fuzz/fuzz_weights found
// both; reproducers in tests/fuzz/regressions/weights/). A weights file is user input, so a child
// process reads it first as this process will, metadata and data: if HDF5 kills the child, the
// file is refused with a clear error instead of taking cnnc down. A clear error in the child is
// left for this process to meet and report itself.
void read_in_a_child_first(const std::string& path, uint64_t size) {
    pid_t child = ::fork();
    if (child < 0) return;  // no child to spare: read in this process alone, as before
    if (child == 0) {
        // A crash is this child's whole answer: no handler of cnnc's (or a sanitizer's) reports it.
        for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, SIG_DFL);
        try {
            // Deflate expands at most 1032:1; an array declared beyond that is refused later.
            read_every_array(open_weights(path, size), size / sizeof(float) * 1032);
        } catch (const std::exception&) {
        }
        ::_exit(0);  // no exit handlers: they belong to the parent
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status))
        throw UserError(path + ": corrupt HDF5 file (the HDF5 library crashed reading it: " + strsignal(WTERMSIG(status)) + ")");
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        throw UserError(path + ": corrupt HDF5 file (the HDF5 library failed reading it)");
}

}  // namespace

WeightsFile read_weights(const std::string& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw UserError(path + ": no such weights file");
    const uint64_t size = fs::file_size(path, ec);
    read_in_a_child_first(path, size);
    return open_weights(path, size);
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

void save_weights(const std::string& path, const std::vector<Param*>& params, StagedFiles* batch) {
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
        if (keras3) {
            save_keras3(file.id, path, params);
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
                if (d.id < 0 || H5Dwrite(d.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->value.data()) < 0)
                    throw UserError(path + ": cannot write weight '" + layer + "/" + wn + "'");
            }
        }
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
