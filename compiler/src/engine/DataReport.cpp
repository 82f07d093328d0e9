#include "engine/DataReport.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "Error.h"
#include "builtins/Builtins.h"
#include "data/ImageFolder.h"
#include "frontend/DataPaths.h"

namespace cnnc::engine {

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Paths as a run resolves them; no member here reads another through a model.
class Reader : public SourceReader {
  public:
    explicit Reader(std::string file) : file_(std::move(file)) {}
    std::string path(const std::string& written) const override { return resolve_data_path(written, file_); }
    rt::LabeledRows features(const std::string&, const Value&) override { throw std::logic_error("internal: features in cnnc data"); }

  private:
    std::string file_;
};

std::string class_counts(const std::vector<int32_t>& labels, const std::vector<std::string>& names) {
    std::map<int32_t, int64_t> count;
    for (int32_t l : labels) ++count[l];
    std::string out;
    for (const auto& [label, n] : count) {
        std::string name = label >= 0 && static_cast<size_t>(label) < names.size() ? names[static_cast<size_t>(label)] : std::to_string(label);
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", name, n);
    }
    return out;
}

// An image folder member: listed and split as a run does, then every image decoded (two threads,
// as the loader) and timed; the ones that do not decode are named.
bool describe_images(const DatasetMember& m, const std::string& name, Reader& reader) {
    rt::ImageFolderOptions o = m.source->images(m.args, reader).options;
    std::vector<std::string> ignored;
    rt::ImageFiles files = rt::list_image_folder(reader.path(m.args.text(m.source->inputs_arg)), &ignored);
    if (auto order = member_order(m.args, static_cast<int64_t>(files.paths.size()))) {
        rt::ImageFiles kept{{}, {}, files.classes};
        for (int64_t i : *order) kept.paths.push_back(files.paths[size_t(i)]), kept.labels.push_back(files.labels[size_t(i)]);
        files = std::move(kept);
    }
    const int64_t n = static_cast<int64_t>(files.paths.size());
    std::vector<std::string> bad(files.paths.size());
    std::atomic<int64_t> next{0};
    auto work = [&] {
        std::vector<float> px(static_cast<size_t>(o.height * o.width * o.channels));
        for (int64_t i; (i = next++) < n;)
            if (std::string why; !rt::decode_image(files.paths[size_t(i)], o, px.data(), why)) bad[size_t(i)] = why;
    };
    const double t0 = now();
    std::vector<std::thread> pool;
    for (int t = 1; t < o.threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    const double secs = std::max(now() - t0, 1e-9);
    fmt::print("{}: image_directory, {} samples of shape ({}, {}, {})\n", name, n, o.height, o.width, o.channels);
    fmt::print("  classes: {}: {}\n", files.classes.size(), class_counts(files.labels, files.classes));
    fmt::print("  decode: {:.0f} images/s on {} threads ({:.0f} per thread)\n", static_cast<double>(n) / secs, o.threads,
               static_cast<double>(n) / secs / o.threads);
    for (const std::string& f : ignored) fmt::print("  ignored: {}, not an image file\n", f);
    int64_t corrupt = 0;
    for (int64_t i = 0; i < n; ++i)
        if (!bad[size_t(i)].empty()) fmt::print("  corrupt: {}: {}\n", files.paths[size_t(i)], bad[size_t(i)]), ++corrupt;
    if (corrupt) fmt::print("  {} of {} images do not decode\n", corrupt, n);
    return corrupt == 0;
}

void describe_rows(const Dataset& ds, const DatasetMember& m, const std::string& name, Reader& reader) {
    const double t0 = now();
    rt::LabeledRows rows = read_source(*m.source, {m.args, name, ds.labels, ds.classes, reader});
    const double secs = std::max(now() - t0, 1e-9);
    const int64_t n = static_cast<int64_t>(rows.labels.size());
    rt::Dims per(rows.x.shape().begin() + 1, rows.x.shape().end());
    fmt::print("{}: {}, {} samples of shape {}\n", name, m.source->name, n, rt::dims_str(per));
    fmt::print("  classes: {}\n", class_counts(rows.labels, ds.class_names));
    fmt::print("  read: {:.0f} samples/s\n", static_cast<double>(n) / secs);
}

}  // namespace

int describe_data(const Compilation& c, const std::string& file, const std::string& dataset) {
    Reader reader(file);
    bool named = dataset.empty(), ok = true;
    for (const Dataset& ds : c.program.datasets) {
        if (!dataset.empty() && ds.name != dataset) continue;
        named = true;
        for (const DatasetMember& m : ds.members) {
            const std::string name = ds.name + "." + m.name;
            try {
                if (!m.source->member_arg.empty()) fmt::print("{}: {}, computed by running model {}: not read here\n", name, m.source->name, m.args.get(m.source->model_arg).s);
                else if (m.source->images) ok &= describe_images(m, name, reader);
                else describe_rows(ds, m, name, reader);
            } catch (const rt::UserError& e) {
                fmt::print("{}: error: {}\n", name, e.what());
                ok = false;
            }
        }
    }
    if (!named) throw rt::UserError("no dataset named '" + dataset + "' in the file");
    return ok ? 0 : 1;
}

}  // namespace cnnc::engine
