#include "frontend/Frontend.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sema/Check.h"
#include "syntax/Parse.h"

namespace fs = std::filesystem;

namespace cnnc {

std::vector<std::string> default_import_dirs() {
    std::vector<std::string> dirs;
    if (const char* env = std::getenv("CNNC_STDLIB")) dirs.push_back(env);
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) dirs.push_back((exe.parent_path().parent_path() / "share" / "cnnc" / "stdlib").string());
#ifdef CNNC_SOURCE_STDLIB
    dirs.push_back(CNNC_SOURCE_STDLIB);
#endif
    return dirs;
}

// ANTLR's input stream throws on malformed UTF-8; find it first and say where. Strict (RFC 3629):
// no overlong forms, no surrogates, nothing above U+10FFFF — the fuzzer found 0xF6 getting through
// a laxer check.
static std::string utf8_problem(const std::string& s, int& line, int& col) {
    line = 1, col = 1;
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        if (n == 0 || i + n > s.size()) return "the file is not UTF-8 text";
        auto b1 = n > 1 ? static_cast<unsigned char>(s[i + 1]) : 0x80;
        unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
        if (n > 1 && (b1 < lo || b1 > hi)) return "the file is not UTF-8 text";
        for (size_t k = 2; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return "the file is not UTF-8 text";
        if (c == '\n') line++, col = 1;
        else col++;
        i += n;
    }
    return "";
}

namespace {
class Loader {
  public:
    Loader(Compilation& c, const FrontendOptions& o) : c_(c), opts_(o) {}

    void add(const std::string& path, std::string text) {
        std::error_code ec;
        std::string key = fs::weakly_canonical(path, ec).string();
        if (ec) key = path;
        if (!seen_.insert(key).second) return;  // imported twice, or an import cycle: load once
        int id = c_.sources.add(path, std::move(text));
        int line, col;
        std::string bad = utf8_problem(c_.sources.file(id).text, line, col);
        if (!bad.empty()) {
            c_.diags.error(SrcLoc{id, line, col, 1}, "{}", bad);
            return;
        }
        c_.files.push_back(parse_file(id, c_.diags));
        // Copy: parsing imports appends to c_.files and would invalidate references.
        std::vector<ast::Decl> imports;
        for (const auto& d : c_.files.back().decls)
            if (d.kind == ast::Decl::Kind::Import) imports.push_back(d);
        for (const auto& d : imports) import(d, path);
    }

    bool read(const std::string& path, std::string& text) {
        if (opts_.embedded) {
            auto it = opts_.embedded->find(fs::path(path).lexically_normal().string());
            if (it != opts_.embedded->end()) {
                text = it->second;
                return true;
            }
            if (opts_.embedded_only) return false;
        }
        std::error_code ec;
        // Regular files only (never /dev/zero or a FIFO), and nothing that cannot be a model file.
        if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) > (64u << 20)) return false;
        std::ifstream in(path, std::ios::binary);
        if (!in) return false;
        std::ostringstream ss;
        ss << in.rdbuf();
        text = ss.str();
        return true;
    }

  private:
    void import(const ast::Decl& d, const std::string& from_path) {
        std::string name = d.import_path;
        if (fs::path(name).extension() != ".cnn") name += ".cnn";
        std::vector<std::string> tried;
        std::vector<fs::path> dirs = {fs::path(from_path).parent_path()};
        if (fs::path(name).is_relative())
            for (const auto& x : opts_.import_dirs) dirs.emplace_back(x);
        for (const auto& dir : dirs) {
            fs::path p = fs::path(name).is_absolute() ? fs::path(name) : dir / name;
            std::string text;
            if (read(p.string(), text)) {
                add(p.lexically_normal().string(), std::move(text));
                return;
            }
            tried.push_back(p.lexically_normal().string());
            if (fs::path(name).is_absolute()) break;
        }
        std::string list;
        for (const auto& t : tried) list += (list.empty() ? "" : ", ") + t;
        auto& e = c_.diags.error(d.name_loc, "cannot find import \"{}\": no {} beside this file or in the import path",
                                 d.import_path, fs::path(name).filename().string());
        Diagnostics::note(e, SrcLoc{}, "looked for " + list);
    }

    Compilation& c_;
    const FrontendOptions& opts_;
    std::set<std::string> seen_;
};
}  // namespace

static std::unique_ptr<Compilation> finish(std::unique_ptr<Compilation> c, const std::string& path, const FrontendOptions& opts) {
    // A file with a bracket never closed has no known declarations: checking the others would
    // only report names it defines as unknown.
    for (const auto& f : c->files)
        if (f.unbalanced) return c;
    if (c->files.empty()) return c;
    c->program = check_program(c->files, c->diags);
    if (!c->diags.has_errors()) check_data_paths(c->program, path, opts.data_paths, c->diags);
    return c;
}

std::unique_ptr<Compilation> compile_file(const std::string& path, const FrontendOptions& opts) {
    auto c = std::make_unique<Compilation>();
    FrontendOptions o = opts;
    if (o.import_dirs.empty()) o.import_dirs = default_import_dirs();
    Loader loader(*c, o);
    std::string text;
    if (!loader.read(path, text)) {
        std::error_code ec;
        std::string why = !fs::exists(path, ec)           ? "no such file"
                          : fs::is_directory(path, ec)    ? "it is a directory"
                          : !fs::is_regular_file(path, ec) ? "not a regular file"
                          : fs::file_size(path, ec) > (64u << 20) ? "larger than 64 MB"
                                                                   : "permission denied";
        c->diags.error(SrcLoc{}, "cannot read '{}': {}", path, why);
        return c;
    }
    loader.add(path, std::move(text));
    return finish(std::move(c), path, o);
}

std::unique_ptr<Compilation> compile_text(const std::string& text, const std::string& name, const FrontendOptions& opts) {
    auto c = std::make_unique<Compilation>();
    FrontendOptions o = opts;
    if (o.import_dirs.empty()) o.import_dirs = default_import_dirs();
    Loader loader(*c, o);
    loader.add(name, text);
    return finish(std::move(c), name, o);
}

}  // namespace cnnc
