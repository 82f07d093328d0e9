// Data sources for `dataset` members, and the fields of dataset, train and evaluate declarations.
// Argument names follow Keras (image_dataset_from_directory) where Keras has the concept. Each
// source's record reads its samples with the runtime's readers (runtime/data/).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "Error.h"
#include "builtins/Builtins.h"
#include "data/Idx.h"
#include "data/Allocate.h"
#include "data/Npy.h"

namespace fs = std::filesystem;

namespace cnnc {

static std::vector<ParamSpec> split_params() {
    return {optional("validation_split", ArgType::Float, none()).above(0).below(1),
            optional("subset", ArgType::Name, none()).one_of({"training", "validation"}),
            optional("seed", ArgType::Int, none())};
}

static std::vector<ParamSpec> cat(std::vector<ParamSpec> a, const std::vector<ParamSpec>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// The arguments of a source of array data (idx, csv, sequences, npy): Keras' split arguments and a
// `shuffle` that defaults to whether a `seed` is given. Unshuffled, validation_split takes the last
// fraction in file order, as fit(validation_split = ...) does with arrays; shuffled, the samples are
// shuffled with the seed before the split, as image_dataset_from_directory's files are.
static std::vector<ParamSpec> array_split_params() {
    return cat({optional("shuffle", ArgType::Bool, none()).about("shuffle the samples with seed before the split (default: when a seed is given)")},
               split_params());
}

static rt::LabeledRows load_idx(const SourceUse& u) {
    auto li = rt::load_idx(u.reader.path(u.args.text("images")), u.reader.path(u.args.text("labels")));
    rt::LabeledRows rows;
    rows.x = std::move(li.images);
    rows.labels = std::move(li.labels);
    return rows;
}

static rt::RecordLayout idx_records(const SourceUse& u) { return rt::idx_records(u.reader.path(u.args.text("images"))); }
static std::vector<int32_t> idx_labels(const SourceUse& u) { return rt::load_idx_labels(u.reader.path(u.args.text("labels"))); }
static rt::RecordLayout npy_records(const SourceUse& u) { return rt::npy_records(u.reader.path(u.args.text("x"))); }
static std::vector<int32_t> npy_labels(const SourceUse& u) { return rt::load_npy_labels(u.reader.path(u.args.text("y"))); }

// The `cache` argument of a source of records: none streams, memory reads the member whole.
static ParamSpec records_cache() {
    return optional("cache", ArgType::Any, none())
        .about("none: read the samples from the file as training goes; memory: read them whole (default: whole when their floats "
               "take at most 2 GB, else from the file)");
}

static rt::LabeledRows load_npy(const SourceUse& u) { return rt::load_npy(u.reader.path(u.args.text("x")), u.reader.path(u.args.text("y"))); }

static rt::LabeledRows load_csv(const SourceUse& u) {
    rt::CsvOptions o;
    const Value& label = u.args.get("label");
    if (label.kind == Value::Kind::Int) o.label_index = label.i;
    else if (label.is_name()) o.label_name = label.s;
    else throw rt::UserError(fmt::format("{}: label must be a column name or index", u.member));
    o.header = u.args.flag("header");
    o.delimiter = u.args.text("delimiter").at(0);  // the checker made it one character
    if (!u.args.is_none("shape")) o.shape = u.args.ints("shape");
    return rt::load_csv(u.reader.path(u.args.text("path")), o);
}

static rt::LabeledRows load_sequences(const SourceUse& u) {
    rt::SequenceOptions o;
    o.max_len = u.args.integer("max_len");
    o.max_features = u.args.is_none("max_features") ? 0 : u.args.integer("max_features");
    o.pad_post = u.args.text("padding") == "post";
    o.truncate_post = u.args.text("truncating") == "post";
    return rt::load_sequences(u.reader.path(u.args.text("path")), o);
}

static rt::LabeledRows load_features(const SourceUse& u) { return u.reader.features(u.args.text("model"), u.args.get("data")); }

// The interpolation methods' names, written once beside rt::Interpolation.
static const std::vector<std::string>& interpolations() {
    static const std::vector<std::string> names(std::begin(rt::kInterpolationNames), std::end(rt::kInterpolationNames));
    return names;
}

// The enumerator a checked Name argument chose: its position among the schema's `choices`.
template <class E>
static E chosen(const BoundArgs& a, const std::string& arg, const std::vector<std::string>& choices) {
    return static_cast<E>(std::find(choices.begin(), choices.end(), a.text(arg)) - choices.begin());
}

static int64_t channels(const BoundArgs& a) {
    const std::string& cm = a.text("color_mode");
    return cm == "grayscale" ? 1 : cm == "rgba" ? 4 : 3;
}

static rt::ImageFolderOptions image_options(const BoundArgs& a) {
    rt::ImageFolderOptions o;
    auto hw = a.ints("image_size");
    o.height = hw[0], o.width = hw[1];
    o.channels = static_cast<int>(channels(a));
    o.interpolation = chosen<rt::Interpolation>(a, "interpolation", interpolations());
    o.crop_to_aspect_ratio = a.flag("crop_to_aspect_ratio");
    o.skip_corrupt = a.flag("skip_corrupt");
    return o;
}

// The class names in label order: the sorted sub-folders, as image_dataset_from_directory's.
static ImageReading directory_images(const BoundArgs& a, const SourceReader& reader) {
    ImageReading r{image_options(a), {}};
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(reader.path(a.text("directory")), ec))
        if (std::error_code bad; e.is_directory(bad)) r.classes.push_back(e.path().filename().string());
    std::sort(r.classes.begin(), r.classes.end());
    return r;
}

// The class folders the dataset's `labels` encoding expects.
static void check_class_count(const SourceUse& u, const std::vector<std::string>& classes) {
    if (u.labels == "one_hot" && static_cast<int64_t>(classes.size()) != u.classes)
        throw rt::UserError(fmt::format("{}: {} class folders, but labels = one_hot({})", u.member, classes.size(), u.classes));
    if (u.labels == "binary" && classes.size() != 2)
        throw rt::UserError(fmt::format("{}: labels = binary needs exactly 2 class folders, found {}", u.member, classes.size()));
}

static rt::LabeledRows load_directory(const SourceUse& u) {
    std::vector<std::string> classes, skipped, ignored;
    rt::LabeledRows rows = rt::load_image_folder(u.reader.path(u.args.text("directory")), image_options(u.args), &classes, &skipped, &ignored);
    for (const std::string& f : ignored) fmt::print(stderr, "warning: {}: ignored {}, not an image file\n", u.member, f);
    if (!skipped.empty())
        fmt::print("{}: skipped {} image{} that do not decode (the first: {})\n", u.member, skipped.size(), skipped.size() == 1 ? "" : "s",
                   skipped.front());
    check_class_count(u, classes);
    return rows;
}

std::optional<std::vector<int64_t>> member_order(const BoundArgs& a, int64_t n) {
    if (!a.has("validation_split")) return std::nullopt;  // a source without Keras' split arguments
    const bool has_split = !a.is_none("validation_split");  // with its subset: the checker sees to it
    // image_directory shuffles unless told not to (Keras' default); an array source when told to or
    // given a seed (array_split_params).
    const bool shuffle = a.is_none("shuffle") ? !a.is_none("seed") : a.flag("shuffle");
    const uint64_t seed = a.is_none("seed") ? 1337 : static_cast<uint64_t>(a.integer("seed"));
    if (has_split) return rt::subset_order(n, a.number("validation_split"), a.text("subset") == "validation", seed, shuffle);
    if (shuffle) return rt::subset_order(n, 0, false, seed, true);
    return std::nullopt;
}

rt::LabeledRows read_source(const SourceKind& source, const SourceUse& u) {
    rt::LabeledRows rows = source.load(u);
    auto order = member_order(u.args, static_cast<int64_t>(rows.labels.size()));
    return order ? rt::take_rows(rows, *order) : rows;
}

// Floats a member may take in memory before image_directory streams it by default: a quarter of
// the memory the process may use, and at most 2 GB.
static uint64_t preload_bound() { return std::min<uint64_t>(uint64_t(2) << 30, rt::memory_limit() / 4); }

std::optional<StreamedImages> streamed_source(const SourceKind& source, const SourceUse& u) {
    if (!source.images || !u.args.has("cache")) return std::nullopt;
    const BoundArgs& a = u.args;
    const Value& cache = a.get("cache");
    StreamedImages s{{}, image_options(a), ""};
    if (cache.kind == Value::Kind::String) s.cache = u.reader.path(cache.s);
    else if (cache.is_name() && (cache.s == "none" || cache.s == "memory")) s.cache = cache.s;
    else if (!a.is_none("cache")) throw rt::UserError(fmt::format("{}: cache must be none, memory or a file path", u.member));
    std::vector<std::string> ignored;
    s.files = rt::list_image_folder(u.reader.path(a.text("directory")), &ignored);
    // Preloading decodes the whole folder before the split: its size, not the subset's, decides.
    const uint64_t floats = uint64_t(s.files.paths.size()) * uint64_t(s.options.height * s.options.width * s.options.channels) * sizeof(float);
    if (a.is_none("cache") && (s.options.skip_corrupt || floats <= preload_bound())) return std::nullopt;
    if (auto order = member_order(a, static_cast<int64_t>(s.files.paths.size()))) {
        rt::ImageFiles kept{{}, {}, s.files.classes};
        for (int64_t i : *order) kept.paths.push_back(s.files.paths[size_t(i)]), kept.labels.push_back(s.files.labels[size_t(i)]);
        s.files = std::move(kept);
    }
    if (s.options.skip_corrupt)
        throw rt::UserError(fmt::format("{}: skip_corrupt = true needs the images decoded up front, which a cache option does not do; "
                                        "`cnnc data` names the files that do not decode",
                                        u.member));
    for (const std::string& f : ignored) fmt::print(stderr, "warning: {}: ignored {}, not an image file\n", u.member, f);
    check_class_count(u, s.files.classes);
    if (s.cache.empty()) s.cache = "none";
    return s;
}

std::optional<StreamedRecords> streamed_records(const SourceKind& source, const SourceUse& u) {
    if (!source.records) return std::nullopt;
    const Value& cache = u.args.get("cache");
    const bool forced = cache.is_name() && cache.s == "none";
    if (!u.args.is_none("cache") && !forced && !(cache.is_name() && cache.s == "memory"))
        throw rt::UserError(fmt::format("{}: cache must be none or memory (the file itself is read at random: no cache file is needed)", u.member));
    if (u.args.get(source.inputs_arg).kind != Value::Kind::String) {  // keyed arrays: one file per input
        if (forced) throw rt::UserError(fmt::format("{}: cache = none reads one x file as training goes; keyed arrays are read whole", u.member));
        return std::nullopt;
    }
    if (!forced && !u.args.is_none("cache")) return std::nullopt;  // memory
    StreamedRecords s{source.records(u), {}, {}};
    if (!s.x.unseekable.empty()) {
        if (forced) throw rt::UserError(s.x.unseekable);
        return std::nullopt;  // read whole: allocate() says when it cannot be
    }
    if (!forced && s.x.float_bytes() <= preload_bound()) return std::nullopt;
    std::vector<int32_t> labels = source.record_labels(u);
    if (static_cast<int64_t>(labels.size()) != s.x.count)
        throw rt::UserError(fmt::format("{}: {} labels, but {} has {} samples", u.reader.path(u.args.text(source.labels_arg)), labels.size(),
                                        s.x.path, s.x.count));
    if (auto order = member_order(u.args, s.x.count)) {
        s.records = std::move(*order);
    } else {
        s.records.resize(static_cast<size_t>(s.x.count));
        std::iota(s.records.begin(), s.records.end(), int64_t{0});
    }
    for (int64_t r : s.records) s.labels.push_back(labels[static_cast<size_t>(r)]);
    return s;
}

const std::vector<SourceKind>& data_sources() {
    static const std::vector<SourceKind> list = [] {
        std::vector<SourceKind> v;
        SourceKind idx;
        idx.name = "idx";
        idx.doc = "MNIST-style IDX image and label files (plain or .gz)";
        idx.params = cat({required("images", ArgType::String), required("labels", ArgType::String), records_cache()}, array_split_params());
        idx.element_shape = [](const BoundArgs&) { return std::optional<Shape>(); };  // known once read
        idx.load = load_idx;
        idx.records = idx_records, idx.record_labels = idx_labels;
        idx.inputs_arg = "images", idx.labels_arg = "labels";
        v.push_back(idx);

        SourceKind dir;
        dir.name = "image_directory";
        dir.aliases = {"image_dataset_from_directory"};
        dir.doc = "one sub-folder per class (sorted names give the labels), JPEG and PNG images";
        dir.params = cat({required("directory", ArgType::String),
                          optional("image_size", ArgType::Size, I(256)).dims(2).min(1),
                          optional("batch_size", ArgType::Int, I(32)).min(1),
                          optional("color_mode", ArgType::Name, N("rgb")).one_of({"grayscale", "rgb", "rgba"}),
                          optional("shuffle", ArgType::Bool, B(true)).about("shuffle the files (with seed) before the split"),
                          optional("interpolation", ArgType::Name, N("bilinear")).one_of(interpolations()),
                          optional("crop_to_aspect_ratio", ArgType::Bool, B(false)),
                          optional("skip_corrupt", ArgType::Bool, B(false)).about("leave out images that do not decode"),
                          optional("cache", ArgType::Any, none())
                              .about("none, memory or a cache file's path: stream the images from disk (default: decoded up front "
                                     "as floats when they take at most 2 GB, else streamed)")},
                         split_params());
        dir.element_shape = [](const BoundArgs& a) {
            auto hw = a.ints("image_size");
            return std::optional<Shape>(Shape{hw[0], hw[1], channels(a)});
        };
        dir.load = load_directory;
        dir.inputs_arg = dir.labels_arg = "directory";
        dir.folders = true;
        dir.images = directory_images;
        v.push_back(dir);

        SourceKind csv;
        csv.name = "csv";
        csv.doc = "a CSV table: one row per sample, a label column, the other columns as features";
        csv.params = cat({required("path", ArgType::String), optional("label", ArgType::Any, I(-1)),
                          optional("header", ArgType::Bool, B(true)), optional("delimiter", ArgType::String, S(",")),
                          optional("shape", ArgType::Dims, none()).min(1)},
                         array_split_params());
        csv.element_shape = [](const BoundArgs& a) {
            if (a.is_none("shape")) return std::optional<Shape>();
            return std::optional<Shape>(Shape(a.ints("shape")));
        };
        csv.load = load_csv;
        csv.inputs_arg = csv.labels_arg = "path";
        v.push_back(csv);

        SourceKind feat;
        feat.name = "features";
        feat.doc = "another dataset member run once through a (frozen) model: cached features, e.g. from VGG16's base";
        feat.params = {required("model", ArgType::Name), required("data", ArgType::Any)};
        feat.element_shape = [](const BoundArgs&) { return std::optional<Shape>(); };  // the model's output: see the checker
        feat.load = load_features;
        feat.member_arg = "data", feat.model_arg = "model";
        v.push_back(feat);

        SourceKind seq;
        seq.name = "sequences";
        seq.doc = "integer token sequences, one per line after the label, padded or truncated to max_len";
        seq.params = cat({required("path", ArgType::String), required("max_len", ArgType::Int).min(1),
                          optional("max_features", ArgType::Int, none()).min(1),
                          optional("padding", ArgType::Name, N("pre")).one_of({"pre", "post"}),
                          optional("truncating", ArgType::Name, N("pre")).one_of({"pre", "post"})},
                         array_split_params());
        seq.element_shape = [](const BoundArgs& a) { return std::optional<Shape>(Shape{a.integer("max_len")}); };
        seq.load = load_sequences;
        seq.inputs_arg = seq.labels_arg = "path";
        v.push_back(seq);

        SourceKind npy;
        npy.name = "npy";
        npy.doc = "NumPy .npy arrays (np.save): samples x of shape (N, ...), integer labels y of shape (N,)";
        // x and y: a file each, or one file per model input and output keyed by name (the checker
        // sees to their types; engine/Arrays.cpp reads the keyed ones).
        npy.params = cat({required("x", ArgType::Any), required("y", ArgType::Any), records_cache()}, array_split_params());
        npy.element_shape = [](const BoundArgs&) { return std::optional<Shape>(); };  // known once read
        npy.load = load_npy;
        npy.records = npy_records, npy.record_labels = npy_labels;
        npy.inputs_arg = "x", npy.labels_arg = "y";
        v.push_back(npy);
        return v;
    }();
    return list;
}

const std::vector<ParamSpec>& dataset_options() {
    static const std::vector<ParamSpec> list = {
        optional("rescale", ArgType::Float, none()).about("multiply every input value, e.g. 1/255"),
        optional("labels", ArgType::Any, none()).about("one_hot(k), int or binary"),
        optional("batch_size", ArgType::Int, none()).min(1),
        optional("class_names", ArgType::Any, none()).about("the classes' names in label order, e.g. [\"cat\", \"dog\"]: predict prints them"),
        // No shuffle or seed here: the train statement's `shuffle` and `seed` order the batches, and
        // image_directory(shuffle, seed) the files before a split.
    };
    return list;
}

const std::vector<ParamSpec>& train_fields() {
    static const std::vector<ParamSpec> list = {
        optional("optimizer", ArgType::Any, N("rmsprop")),
        required("loss", ArgType::Any),
        optional("loss_weights", ArgType::Any, none()).about("per output: {out_a = 1.0, out_b = 0.2} or a list in output order"),
        optional("metrics", ArgType::Any, none()),
        optional("epochs", ArgType::Int, I(1)).min(1),
        optional("batch_size", ArgType::Int, none()).min(1),
        optional("validation", ArgType::Any, none()),
        optional("callbacks", ArgType::Any, none()),
        optional("shuffle", ArgType::Bool, B(true)),
        optional("seed", ArgType::Int, none()),
        optional("initial_epoch", ArgType::Int, I(0)).min(0),
        optional("unfreeze", ArgType::Any, none()).about("layers of frozen blocks to train in this statement (fine-tuning)"),
        optional("weights", ArgType::String, none()).about("a weights file to start from; a Keras 3 .weights.h5 also restores the optimizer's state"),
    };
    return list;
}

const std::vector<ParamSpec>& evaluate_fields() {
    static const std::vector<ParamSpec> list = {
        optional("batch_size", ArgType::Int, none()).min(1),
        optional("weights", ArgType::String, none()),
        optional("loss", ArgType::Any, none()),
        optional("loss_weights", ArgType::Any, none()),
        optional("metrics", ArgType::Any, none()),
    };
    return list;
}

}  // namespace cnnc
