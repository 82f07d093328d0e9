// The named things a .cnn file can use besides layers: activations, initializers, regularizers,
// optimizers, losses, metrics, callbacks and data sources. Each family is one list in one file
// (builtins/<Family>.cpp), and each entry is one record: its schema with Keras' defaults, its
// documentation and, where the runtime executes it, its implementation, built from the arguments
// the schema bound. Adding an entry there is all it takes for the checker to accept it, check its
// arguments and suggest it for near misses, and for `cnnc run` to execute it: the runtime's
// optimizers, losses, metrics, callbacks and readers look no name up and write no default of their
// own.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/Shape.h"
#include "ir/Schema.h"
#include "data/ImageFolder.h"
#include "data/Records.h"
#include "data/Table.h"
#include "train/Callbacks.h"
#include "train/Loss.h"
#include "train/Optimizer.h"
#include "train/Random.h"

namespace cnnc {

struct Builtin {
    std::string name;
    std::vector<ParamSpec> params;
    std::string doc;
    std::vector<std::string> aliases;  // other spellings Keras accepts: mse, RMSprop, acc
};

// An initializer: `draw` fills a weight as Keras' initializer of that name does, with its defaults.
struct InitializerKind : Builtin {
    void (*draw)(rt::Tensor& weight, rt::Rng& rng);
};

// An optimizer: `make` builds the runtime's from its bound arguments, under the record's name.
struct OptimizerKind : Builtin {
    std::unique_ptr<rt::Optimizer> (*make)(const std::string& name, const BoundArgs& args);
};

// A dataset's labels as a loss will compare them with a model's output.
struct LabelUse {
    std::string encoding;  // one_hot, int or binary
    int64_t classes = 0;   // one_hot(k)'s k; 0 when the dataset does not say (the model's width is used)
    std::string dataset, model;
    Shape out;             // the model's output, per sample
};

// A callback: `make` builds the runtime's from its bound arguments; relative output paths go under
// `output_dir` (cnnc run --output-dir).
struct CallbackKind : Builtin {
    std::unique_ptr<rt::Callback> (*make)(const BoundArgs& args, const std::string& output_dir);
};

// A worked example the conformance test (tests/unit/test_builtin_conformance.cpp) runs on every
// loss and metric of the lists: a batch of output rows and target rows, and the mean over the
// batch that Keras computes with the default arguments.
struct BatchExample {
    std::vector<std::vector<float>> out, target;
    double want;
};

// A loss knows which model outputs and which labels it can be applied to.
struct LossKind : Builtin {
    // The runtime's loss from the bound arguments, under the record's name.
    rt::LossSpec (*make)(const std::string& name, const BoundArgs& args) = nullptr;
    // The metric Keras means by `accuracy` with this loss (when the output is wider than 1).
    std::string accuracy;
    std::vector<BatchExample> examples;
    // "" when `out` (the model's output shape, whose last layer applies `activation`) fits; otherwise
    // the reason it does not.
    std::function<std::string(const Shape& out, const std::string& activation, const BoundArgs& args)> fits;
    // "" when Keras compares these labels with this output; otherwise the reason it rejects them.
    std::function<std::string(const LabelUse&)> labels_fit;
    // The label encoding used when the dataset does not set `labels`: "one_hot", "int" or "binary".
    std::string labels;
};

// A metric: its sum over a batch's samples, or null for `accuracy`, which stands for the accuracy
// its loss names (resolve_metric).
struct MetricKind : Builtin {
    rt::MetricFn sum = nullptr;
    std::vector<BatchExample> examples;
};

// What reading a dataset member asks of the run that reads it.
class SourceReader {
  public:
    virtual ~SourceReader() = default;
    // A path as the file wrote it, resolved as the checker resolved it (beside the model file).
    virtual std::string path(const std::string& written) const = 0;
    // The samples of the member `data` (`dataset.member`) run through `model` in inference; its
    // labels stay (features(model, data)).
    virtual rt::LabeledRows features(const std::string& model, const Value& data) = 0;
};

// One member being read: its bound arguments, its name ("mnist.train"), its dataset's label
// encoding (`labels`: one_hot, int, binary or "" when unspecified; `classes`: one_hot(k)'s k).
struct SourceUse {
    const BoundArgs& args;
    std::string member;
    std::string labels;
    int64_t classes = 0;
    SourceReader& reader;
};

// How an image source reads each image, and its class names in label order: `cnnc predict` reads
// new images as the model's training data was read.
struct ImageReading {
    rt::ImageFolderOptions options;
    std::vector<std::string> classes;
};

// A data source yields (input, label) pairs; where its arguments fix the input shape, the checker
// compares it with the model's input before any file is read.
struct SourceKind : Builtin {
    std::function<std::optional<Shape>(const BoundArgs&)> element_shape;
    // Its samples and integer labels, every sample (read_source applies Keras' split arguments).
    rt::LabeledRows (*load)(const SourceUse& use) = nullptr;
    // The arguments naming the files its inputs and its labels come from, which data errors name
    // and the checker looks for (folders when `folders` is set); for a source that reads another
    // member (features), `member_arg` names that member and `model_arg` the model it runs instead.
    std::string inputs_arg, labels_arg, member_arg, model_arg;
    bool folders = false;
    // For a source of images, how it reads them; null otherwise.
    ImageReading (*images)(const BoundArgs& args, const SourceReader& reader) = nullptr;
    // For a source whose samples are fixed-size records in one file (npy, idx): that file's layout
    // (its header read and checked) and the labels, read whole; null otherwise.
    rt::RecordLayout (*records)(const SourceUse& use) = nullptr;
    std::vector<int32_t> (*record_labels)(const SourceUse& use) = nullptr;
};

// The member's samples: its source's, in member_order's order.
rt::LabeledRows read_source(const SourceKind& source, const SourceUse& use);

// The samples a member keeps, in order, of the `n` its source reads (nullopt: all, as read): its
// validation_split and subset (Keras' get_training_or_validation_split, the last
// int(validation_split * n)), after a shuffle with its seed (1337 when not given) where it shuffles:
// image_directory unless shuffle = false (image_dataset_from_directory), an array source (idx, csv,
// sequences, npy) when given shuffle = true or a seed, else in file order (fit(validation_split)'s
// rule for arrays); with a shuffle and no split, all of them, shuffled.
std::optional<std::vector<int64_t>> member_order(const BoundArgs& args, int64_t n);

// A member read from its records as training needs it (data/Records.h): the file's record of each
// of its samples after the split and shuffle, and their labels in that order.
struct StreamedRecords {
    rt::RecordLayout x;
    std::vector<int64_t> records;
    std::vector<int32_t> labels;
};
// The member's streamed records, or nullopt when it is read whole by read_source: a source without
// records, `cache = memory`, keyed arrays, a gzipped file without `cache`, or no `cache` and floats
// within the preload bound. `cache = none` streams (a gzipped file is then an error).
std::optional<StreamedRecords> streamed_records(const SourceKind& source, const SourceUse& use);

// A member read from disk as training needs it (data/ImageStream.h): its image files after the
// split, how they decode, and its cache ("none", "memory" or a file path).
struct StreamedImages {
    rt::ImageFiles files;
    rt::ImageFolderOptions options;
    std::string cache;
};
// The member's streamed images, or nullopt when it is read whole by read_source: a source that does
// not stream, or image_directory without `cache` whose floats fit in the preload bound (the smaller
// of 2 GB and a quarter of the process's memory).
std::optional<StreamedImages> streamed_source(const SourceKind& source, const SourceUse& use);

const std::vector<Builtin>& activations();
const std::vector<InitializerKind>& initializers();
const std::vector<Builtin>& regularizers();
const std::vector<OptimizerKind>& optimizers();
const std::vector<LossKind>& losses();
const std::vector<MetricKind>& metrics();
// The metric `name` (as the user wrote it: accuracy, acc, mse...) with `loss` on an output of
// `output_width` values per sample, resolved the way Keras resolves `accuracy`.
rt::Metric resolve_metric(const std::string& name, const LossKind& loss, int64_t output_width);
const std::vector<CallbackKind>& callbacks();
const std::vector<SourceKind>& data_sources();
// Schemas of the declarations themselves: a dataset's options, a train's and an evaluate's fields.
const std::vector<ParamSpec>& dataset_options();
const std::vector<ParamSpec>& train_fields();
const std::vector<ParamSpec>& evaluate_fields();

template <class T>
const T* find_builtin(const std::vector<T>& list, const std::string& name) {
    for (const T& b : list) {
        if (b.name == name) return &b;
        for (const auto& a : b.aliases)
            if (a == name) return &b;
    }
    return nullptr;
}

template <class T>
std::vector<std::string> builtin_names(const std::vector<T>& list) {
    std::vector<std::string> v;
    for (const T& b : list) {
        v.push_back(b.name);
        for (const auto& a : b.aliases) v.push_back(a);
    }
    return v;
}

}  // namespace cnnc
