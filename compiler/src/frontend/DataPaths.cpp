#include "frontend/DataPaths.h"

#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace cnnc {

std::string resolve_data_path(const std::string& p, const std::string& model_file) {
    if (fs::path(p).is_absolute()) return p;
    std::error_code ec;
    if (fs::exists(p, ec) || fs::exists(p + ".gz", ec)) return p;
    fs::path beside = fs::path(model_file).parent_path() / p;
    if (fs::exists(beside, ec) || fs::exists(beside.string() + ".gz", ec)) return beside.string();
    return p;
}

namespace {

class PathChecker {
  public:
    PathChecker(const Program& p, const std::string& model_file, Diagnostics& d) : prog_(p), file_(model_file), diags_(d) {}

    void data(const DataRef& ref) {
        const Dataset* ds = prog_.dataset(ref.dataset);
        const DatasetMember* m = ds ? ds->member(ref.member) : nullptr;
        if (!m || !seen_.insert(ref.dataset + "." + ref.member).second) return;
        const SourceKind& src = *m->source;
        if (!src.member_arg.empty()) {
            if (const Model* fm = prog_.model(m->args.text(src.model_arg))) model(*fm);
            const Value& dv = m->args.get(src.member_arg);
            data(DataRef{dv.s.substr(0, dv.s.find('.')), dv.s.substr(dv.s.find('.') + 1), dv.loc});
            return;
        }
        for (const std::string* arg : {&src.inputs_arg, &src.labels_arg}) {
            if (arg == &src.labels_arg && src.labels_arg == src.inputs_arg) continue;  // one file holds both
            if (src.folders) directory(m->args, *arg);
            else file(m->args, *arg);
        }
    }

    // Pretrained weights of the model's blocks (`vgg16(weights = "...")`).
    void model(const Model& m) { layers(m.layers); }

    void file(const BoundArgs& a, const std::string& arg) {
        if (a.is_none(arg)) return;
        const Value& v = a.get(arg);
        if (v.kind == Value::Kind::Dict) {  // one file per model input or output: npy(x = {image = "..."})
            for (const NamedValue& e : v.args) file(e.value.s, e.value.loc);
            return;
        }
        file(v.s, a.loc(arg));
    }

    void file(const std::string& p, SrcLoc at) {
        std::string r = resolve_data_path(p, file_);
        std::error_code ec;
        if (fs::is_directory(r, ec)) diags_.error(at, "\"{}\" is a directory, not a file", p);
        else if (!fs::exists(r, ec) && !fs::exists(r + ".gz", ec)) missing(at, p, "file");
    }

  private:
    void directory(const BoundArgs& a, const std::string& arg) {
        const std::string& p = a.text(arg);
        std::string r = resolve_data_path(p, file_);
        std::error_code ec;
        if (fs::exists(r, ec) && !fs::is_directory(r, ec)) diags_.error(a.loc(arg), "\"{}\" is a file, not a directory", p);
        else if (!fs::exists(r, ec)) missing(a.loc(arg), p, "directory");
    }

    void missing(SrcLoc loc, const std::string& p, const char* what) {
        diags_.error(loc, "no such {}: \"{}\"{}", what, p,
                     fs::path(p).is_absolute() ? "" : " (looked in the working directory and beside the model file)");
    }

    void layers(const std::vector<LayerNode>& ls) {
        for (const auto& l : ls) {
            if (!l.weights_file.empty()) file(l.args, "weights");
            layers(l.children);
        }
    }

    const Program& prog_;
    const std::string& file_;
    Diagnostics& diags_;
    std::set<std::string> seen_;
};

}  // namespace

void check_data_paths(const Program& prog, const std::string& model_file, DataPathCheck which, Diagnostics& diags) {
    if (which == DataPathCheck::None) return;
    PathChecker pc(prog, model_file, diags);
    if (which == DataPathCheck::Run)
        for (const auto& t : prog.trains) {
            if (const Model* m = prog.model(t.model)) pc.model(*m);
            pc.data(t.data);
            if (t.has_validation) pc.data(t.validation);
            pc.file(t.fields, "weights");
        }
    for (const auto& e : prog.evaluates) {
        if (const Model* m = prog.model(e.model)) pc.model(*m);
        pc.data(e.data);
        pc.file(e.fields, "weights");
    }
}

}  // namespace cnnc
