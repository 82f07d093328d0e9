// Data sources for `dataset` members, and the fields of dataset, train and evaluate declarations.
// Argument names follow Keras (image_dataset_from_directory) where Keras has the concept.
#include "builtins/Builtins.h"

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

const std::vector<SourceKind>& data_sources() {
    static const std::vector<SourceKind> list = [] {
        std::vector<SourceKind> v;
        SourceKind idx;
        idx.name = "idx";
        idx.doc = "MNIST-style IDX image and label files (plain or .gz)";
        idx.params = {required("images", ArgType::String), required("labels", ArgType::String)};
        idx.element_shape = [](const BoundArgs&) { return std::optional<Shape>(); };  // known once read
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
                          optional("interpolation", ArgType::Name, N("bilinear")).one_of({"bilinear", "nearest", "bicubic", "area"}),
                          optional("crop_to_aspect_ratio", ArgType::Bool, B(false)),
                          optional("skip_corrupt", ArgType::Bool, B(false)).about("leave out images that do not decode")},
                         split_params());
        dir.element_shape = [](const BoundArgs& a) {
            auto hw = a.ints("image_size");
            const std::string& cm = a.text("color_mode");
            int64_t c = cm == "grayscale" ? 1 : cm == "rgba" ? 4 : 3;
            return std::optional<Shape>(Shape{hw[0], hw[1], c});
        };
        v.push_back(dir);

        SourceKind csv;
        csv.name = "csv";
        csv.doc = "a CSV table: one row per sample, a label column, the other columns as features";
        csv.params = cat({required("path", ArgType::String), optional("label", ArgType::Any, I(-1)),
                          optional("header", ArgType::Bool, B(true)), optional("delimiter", ArgType::String, S(",")),
                          optional("shape", ArgType::Dims, none()).min(1)},
                         split_params());
        csv.element_shape = [](const BoundArgs& a) {
            if (a.is_none("shape")) return std::optional<Shape>();
            return std::optional<Shape>(Shape(a.ints("shape")));
        };
        v.push_back(csv);

        SourceKind feat;
        feat.name = "features";
        feat.doc = "another dataset member run once through a (frozen) model: cached features, e.g. from VGG16's base";
        feat.params = {required("model", ArgType::Name), required("data", ArgType::Any)};
        feat.element_shape = [](const BoundArgs&) { return std::optional<Shape>(); };  // the model's output: see the checker
        v.push_back(feat);

        SourceKind seq;
        seq.name = "sequences";
        seq.doc = "integer token sequences, one per line after the label, padded or truncated to max_len";
        seq.params = cat({required("path", ArgType::String), required("max_len", ArgType::Int).min(1),
                          optional("max_features", ArgType::Int, none()).min(1),
                          optional("padding", ArgType::Name, N("pre")).one_of({"pre", "post"}),
                          optional("truncating", ArgType::Name, N("pre")).one_of({"pre", "post"})},
                         split_params());
        seq.element_shape = [](const BoundArgs& a) { return std::optional<Shape>(Shape{a.integer("max_len")}); };
        v.push_back(seq);
        return v;
    }();
    return list;
}

const std::vector<ParamSpec>& dataset_options() {
    static const std::vector<ParamSpec> list = {
        optional("rescale", ArgType::Float, none()).about("multiply every input value, e.g. 1/255"),
        optional("labels", ArgType::Any, none()).about("one_hot(k), int or binary"),
        optional("batch_size", ArgType::Int, none()).min(1),
        // No shuffle or seed here: the train statement's `shuffle` and `seed` order the batches, and
        // image_directory(shuffle, seed) the files before a split.
    };
    return list;
}

const std::vector<ParamSpec>& train_fields() {
    static const std::vector<ParamSpec> list = {
        optional("optimizer", ArgType::Any, N("rmsprop")),
        required("loss", ArgType::Any),
        optional("metrics", ArgType::Any, none()),
        optional("epochs", ArgType::Int, I(1)).min(1),
        optional("batch_size", ArgType::Int, none()).min(1),
        optional("validation", ArgType::Any, none()),
        optional("callbacks", ArgType::Any, none()),
        optional("shuffle", ArgType::Bool, B(true)),
        optional("seed", ArgType::Int, none()),
        optional("initial_epoch", ArgType::Int, I(0)).min(0),
        optional("unfreeze", ArgType::Any, none()).about("layers of frozen blocks to train in this statement (fine-tuning)"),
    };
    return list;
}

const std::vector<ParamSpec>& evaluate_fields() {
    static const std::vector<ParamSpec> list = {
        optional("batch_size", ArgType::Int, none()).min(1),
        optional("weights", ArgType::String, none()),
        optional("loss", ArgType::Any, none()),
        optional("metrics", ArgType::Any, none()),
    };
    return list;
}

}  // namespace cnnc
