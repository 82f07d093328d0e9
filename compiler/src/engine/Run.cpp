#include "engine/Run.h"

#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <filesystem>
#include <map>

#include "Error.h"
#include "data/Idx.h"
#include "data/ImageFolder.h"
#include "data/Table.h"
#include "engine/LoadWeights.h"
#include "io/Weights.h"
#include "engine/Build.h"
#include "train/Plots.h"
#include "train/Trainer.h"

namespace fs = std::filesystem;

namespace cnnc::engine {

namespace {

// Data paths resolve as the checker found them (driver/DataPaths.h).
std::string resolve_path(const std::string& p, const std::string& model_file) { return resolve_data_path(p, model_file); }

// Targets encoded for the loss: one-hot rows, class indices, or raw 0/1 values.
rt::Tensor encode_labels(const std::vector<int32_t>& labels, const Dataset& ds, const LossKind& loss) {
    int64_t n = static_cast<int64_t>(labels.size());
    if (loss.labels == "one_hot") {
        int64_t k = ds.classes;
        if (k == 0) {
            for (int32_t l : labels) k = std::max<int64_t>(k, l + 1);
        }
        rt::Tensor y({n, k});
        y.fill(0);
        for (int64_t i = 0; i < n; ++i) {
            if (labels[static_cast<size_t>(i)] >= k)
                throw rt::UserError(fmt::format("dataset '{}': label {} does not fit one_hot({})", ds.name, labels[static_cast<size_t>(i)], k));
            y[i * k + labels[static_cast<size_t>(i)]] = 1;
        }
        return y;
    }
    rt::Tensor y({n, 1});
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(labels[static_cast<size_t>(i)]);
    return y;
}

class Runner {
  public:
    Runner(const Compilation& c, std::string file, const RunOptions& o, KernelCache& kernels)
        : c_(c), file_(std::move(file)), o_(o), cache_(kernels) {}

    void run() {
        // Every train statement in file order, then every evaluate: an evaluation sees the weights
        // its model's training left.
        for (const TrainSpec& t : c_.program.trains) train(t);
        for (const EvaluateSpec& e : c_.program.evaluates) evaluate(e);
    }

    void evaluate_only() {
        if (c_.program.evaluates.empty()) throw rt::UserError("the file has no evaluate statement");
        for (const EvaluateSpec& e : c_.program.evaluates) evaluate(e);
    }

    // What run() and predict() would compile, in the same order, with no data and no weights
    // files read: every model's inference, and each train statement's training.
    void prepare() {
        dry_ = true;
        for (const Model& m : c_.program.models)
            if (m.shaped) network(m, 1337, 1, false);
        for (const TrainSpec& t : c_.program.trains) {
            const Model& m = *c_.program.model(t.model);
            unfreeze(t, network(m, 1337, 1, false));
            network(m, 1337, 1, true);
        }
    }

    void predict(const std::string& model_name, const std::vector<std::string>& images) {
        const Model* m = nullptr;
        if (!model_name.empty()) {
            m = c_.program.model(model_name);
            if (!m) throw rt::UserError("no model named '" + model_name + "' in the file");
        } else if (!c_.program.trains.empty()) {
            m = c_.program.model(c_.program.trains.front().model);
        } else if (c_.program.models.size() == 1) {
            m = &c_.program.models.front();
        } else {
            throw rt::UserError("the file has several models and trains none: say which with --model");
        }
        const rt::Dims& in = m->input.dims;
        if (in.size() != 3 || (in[2] != 1 && in[2] != 3 && in[2] != 4))
            throw rt::UserError(fmt::format("model '{}' takes inputs of shape {}, not images (height, width, 1, 3 or 4 channels)",
                                            m->name, m->input.str(false)));
        // Read the images as the model's training data was read: its size, interpolation, crop and rescale.
        const TrainSpec* t = train_of(m->name);
        const Dataset* ds = t ? c_.program.dataset(t->data.dataset) : nullptr;
        const DatasetMember* dm = ds ? ds->member(t->data.member) : nullptr;
        rt::ImageFolderOptions io;
        io.height = in[0], io.width = in[1], io.channels = static_cast<int>(in[2]);
        std::vector<std::string> classes;
        if (dm && dm->source->name == "image_directory") {
            io.nearest = dm->args.text("interpolation") == "nearest";
            io.crop_to_aspect_ratio = dm->args.flag("crop_to_aspect_ratio");
            std::error_code ec;
            fs::path dir = resolve_path(dm->args.text("directory"), file_);
            for (const auto& e : fs::directory_iterator(dir, ec))
                if (e.is_directory()) classes.push_back(e.path().filename().string());
            std::sort(classes.begin(), classes.end());
        }
        const float scale = ds ? rescale(*ds) : 1.f;
        const int64_t n = static_cast<int64_t>(images.size()), per = m->input.elements();
        rt::Tensor x({n, in[0], in[1], in[2]});
        for (int64_t i = 0; i < n; ++i) {
            rt::Tensor img = rt::load_image(images[static_cast<size_t>(i)], io);
            for (int64_t k = 0; k < per; ++k) x[i * per + k] = img[k] * scale;
        }
        rt::Network& net = network(*m, 1337, n, false);
        load_weights_into(m->layers, "", "", net, rt::read_weights(o_.weights), o_.weights);
        rt::View y = net.forward(x.view(), rt::StepInfo{false, 0, 0});
        const int64_t k = y.size() / n;
        const std::string act = m->output_activation();
        auto name = [&](int64_t c) { return c < static_cast<int64_t>(classes.size()) ? classes[static_cast<size_t>(c)] : std::to_string(c); };
        for (int64_t i = 0; i < n; ++i) {
            const float* p = y.data + i * k;
            if (k == 1) {  // one sigmoid unit: the probability of class 1
                int64_t c = p[0] >= 0.5f ? 1 : 0;
                fmt::print("{}: {} ({:.4f})  [{}: {:.4f}, {}: {:.4f}]\n", images[static_cast<size_t>(i)], name(c), c ? p[0] : 1 - p[0],
                           name(0), 1 - p[0], name(1), p[0]);
                continue;
            }
            int64_t c = std::max_element(p, p + k) - p;
            std::string probs;
            for (int64_t j = 0; j < k; ++j) probs += fmt::format("{}{}: {:.4f}", j ? ", " : "", name(j), p[j]);
            fmt::print("{}: {} ({:.4f})  [{}]{}\n", images[static_cast<size_t>(i)], name(c), p[c], probs,
                       act == "softmax" || act == "sigmoid" ? "" : "  (outputs, not probabilities: the model's last activation is " + act + ")");
        }
    }

  private:
    const rt::Samples& samples(const DataRef& ref, const LossKind& loss) {
        std::string key = ref.dataset + "." + ref.member + "|" + loss.labels;
        auto it = data_.find(key);
        if (it != data_.end()) return it->second;
        const Dataset& ds = *c_.program.dataset(ref.dataset);
        const DatasetMember& m = *ds.member(ref.member);
        rt::LabeledRows rows = load_located(ref, m);
        rt::Samples s;
        s.x = std::move(rows.x);
        if (float r = rescale(ds); r != 1.f)
            for (int64_t i = 0; i < s.x.size(); ++i) s.x[i] *= r;
        s.y = encode_labels(rows.labels, ds, loss);
        return data_.emplace(key, std::move(s)).first->second;
    }

    // features(model, data): the data run once through the model (in inference, batch 64); the
    // outputs become the samples and the data's labels stay. The seed's feature extraction with a
    // frozen VGG16 base.
    rt::LabeledRows features(const DatasetMember& m) {
        const Model& fm = *c_.program.model(m.args.text("model"));
        const Value& dv = m.args.get("data");
        DataRef src{dv.s.substr(0, dv.s.find('.')), dv.s.substr(dv.s.find('.') + 1), dv.loc};
        const Dataset& sds = *c_.program.dataset(src.dataset);
        rt::LabeledRows in = load_located(src, *sds.member(src.member));
        if (float r = rescale(sds); r != 1.f)
            for (int64_t i = 0; i < in.x.size(); ++i) in.x[i] *= r;
        const int64_t batch = 64, n = static_cast<int64_t>(in.labels.size());
        rt::Network& net = network(fm, o_.seed ? *o_.seed : 1337, batch, false);
        const Shape per = fm.output();  // a value: begin() and end() must come from one object
        rt::Dims shape = {n};
        shape.insert(shape.end(), per.dims.begin(), per.dims.end());
        rt::LabeledRows out;
        out.x = rt::Tensor(shape);
        out.labels = std::move(in.labels);
        int64_t per_in = in.x.size() / std::max<int64_t>(n, 1), per_out = out.x.size() / std::max<int64_t>(n, 1);
        fmt::print("Extracting features of {}.{} with {}: {} samples\n", src.dataset, src.member, fm.name, n);
        for (int64_t b = 0; b < n; b += batch) {
            int64_t k = std::min(batch, n - b);
            rt::View x{in.x.data() + b * per_in, {k}};
            x.shape.insert(x.shape.end(), fm.input.dims.begin(), fm.input.dims.end());
            rt::View y = net.forward(x, rt::StepInfo{false, 0, 0});
            std::copy(y.data, y.data + k * per_out, out.x.data() + b * per_out);
        }
        return out;
    }

    // load(), with an error about the data located at the member that names it.
    rt::LabeledRows load_located(const DataRef& ref, const DatasetMember& m) {
        try {
            return load(ref, m);
        } catch (rt::UserError& e) {
            SrcLoc at = m.args.call_loc.valid() ? m.args.call_loc : m.loc;
            if (e.where.file < 0) e.where = {at.file, at.line, at.col, at.len};
            throw;
        }
    }

    // A dataset member's samples and integer labels, from whichever source it names.
    rt::LabeledRows load(const DataRef& ref, const DatasetMember& m) {
        const std::string& src = m.source->name;
        rt::LabeledRows rows;
        if (src == "idx") {
            auto li = rt::load_idx(resolve_path(m.args.text("images"), file_), resolve_path(m.args.text("labels"), file_));
            rows.x = std::move(li.images);
            rows.labels = std::move(li.labels);
            return rows;
        }
        if (src == "csv") {
            rt::CsvOptions o;
            const Value& label = m.args.get("label");
            if (label.kind == Value::Kind::Int) o.label_index = label.i;
            else if (label.is_name()) o.label_name = label.s;
            else throw rt::UserError(fmt::format("{}.{}: label must be a column name or index", ref.dataset, ref.member));
            o.header = m.args.flag("header");
            const std::string& d = m.args.text("delimiter");
            if (d.size() != 1) throw rt::UserError(fmt::format("{}.{}: delimiter must be one character", ref.dataset, ref.member));
            o.delimiter = d[0];
            if (!m.args.is_none("shape")) o.shape = m.args.ints("shape");
            rows = rt::load_csv(resolve_path(m.args.text("path"), file_), o);
        } else if (src == "sequences") {
            rt::SequenceOptions o;
            o.max_len = m.args.integer("max_len");
            o.max_features = m.args.is_none("max_features") ? 0 : m.args.integer("max_features");
            o.pad_post = m.args.text("padding") == "post";
            o.truncate_post = m.args.text("truncating") == "post";
            rows = rt::load_sequences(resolve_path(m.args.text("path"), file_), o);
        } else if (src == "features") {
            rows = features(m);
        } else if (src == "image_directory") {
            rt::ImageFolderOptions o;
            auto hw = m.args.ints("image_size");
            o.height = hw[0], o.width = hw[1];
            const std::string& cm = m.args.text("color_mode");
            o.channels = cm == "grayscale" ? 1 : cm == "rgba" ? 4 : 3;
            o.nearest = m.args.text("interpolation") == "nearest";
            o.crop_to_aspect_ratio = m.args.flag("crop_to_aspect_ratio");
            o.skip_corrupt = m.args.flag("skip_corrupt");
            std::vector<std::string> classes, skipped;
            rows = rt::load_image_folder(resolve_path(m.args.text("directory"), file_), o, &classes, &skipped);
            if (!skipped.empty())
                fmt::print("{}.{}: skipped {} image{} that do not decode (the first: {})\n", ref.dataset, ref.member, skipped.size(),
                           skipped.size() == 1 ? "" : "s", skipped.front());
            const Dataset& ds = *c_.program.dataset(ref.dataset);
            if (ds.labels == "one_hot" && static_cast<int64_t>(classes.size()) != ds.classes)
                throw rt::UserError(fmt::format("{}.{}: {} class folders, but labels = one_hot({})", ref.dataset, ref.member,
                                                classes.size(), ds.classes));
            if (ds.labels == "binary" && classes.size() != 2)
                throw rt::UserError(fmt::format("{}.{}: labels = binary needs exactly 2 class folders, found {}", ref.dataset,
                                                ref.member, classes.size()));
        } else {
            throw rt::UserError(fmt::format("{}.{}: the data source {}(...) is not supported by `cnnc run` yet", ref.dataset,
                                            ref.member, src));
        }
        if (!m.args.has("validation_split")) return rows;  // a source without Keras' split arguments
        bool has_split = !m.args.is_none("validation_split"), has_subset = !m.args.is_none("subset");
        if (has_split != has_subset)
            throw rt::UserError(fmt::format("{}.{}: validation_split and subset go together (subset = training or validation)",
                                            ref.dataset, ref.member));
        if (has_split) {
            uint64_t seed = m.args.is_none("seed") ? 1337 : static_cast<uint64_t>(m.args.integer("seed"));
            rows = rt::take_subset(rows, m.args.number("validation_split"), m.args.text("subset") == "validation", seed);
        }
        return rows;
    }

    rt::Network& network(const Model& m, uint64_t seed, int64_t batch, bool training) {
        auto& net = nets_[m.name];
        if (!net) {
            net = build_network(m, cache_, seed);
            if (!dry_) load_block_weights(m.layers, "", *net, file_, [&](const std::string& p) { return resolve_path(p, file_); });
        }
        net->prepare(batch, training);
        return *net;
    }

    void train(const TrainSpec& t) {
        const Model& m = *c_.program.model(t.model);
        uint64_t seed = o_.seed ? *o_.seed : t.fields.is_none("seed") ? 1337 : static_cast<uint64_t>(t.fields.integer("seed"));
        const rt::Samples& train = samples(t.data, *t.loss);
        const rt::Samples* val = t.has_validation ? &samples(t.validation, *t.loss) : nullptr;
        check_input(m, train, t.data);
        if (!t.unfreeze.empty()) unfreeze(t, network(m, seed, t.batch_size, false));
        rt::Network& net = network(m, seed, t.batch_size, true);
        rt::OptimizerSpec os{t.optimizer.kind->name, {}};
        for (const auto& [k, v] : t.optimizer.args.all())
            if (v.is_number() || v.kind == Value::Kind::Bool) os.args[k] = v.kind == Value::Kind::Bool ? (v.b ? 1 : 0) : v.as_double();
        auto& opt = optimizers_[m.name];
        opt = std::make_unique<rt::Optimizer>(os);
        rt::FitConfig cfg = fit_config(m, *t.loss, t.loss_args, t.metrics, t.batch_size, seed);
        cfg.epochs = o_.epochs ? *o_.epochs : t.epochs;
        cfg.initial_epoch = t.fields.integer("initial_epoch");
        cfg.shuffle = t.fields.flag("shuffle");
        for (const CallbackSpec& cb : t.callbacks) {
            rt::CallbackArgs a;
            a.kind = cb.kind->name;
            a.output_dir = o_.output_dir;
            for (const auto& [k, v] : cb.args.all()) {
                if (v.is_number()) a.num[k] = v.as_double();
                else if (v.kind == Value::Kind::Bool) a.num[k] = v.b ? 1 : 0;
                else if (v.is_name()) a.str[k] = v.s;
            }
            cfg.callbacks.push_back(rt::make_callback(a));
        }
        fmt::print("Training {} on {}.{}: {} samples, batch {}, {} epochs ({})\n", m.name, t.data.dataset, t.data.member, train.size(),
                   t.batch_size, cfg.epochs, cache_.describe());
        std::fflush(stdout);
        cfg.state_path = (fs::path(o_.output_dir) / (m.name + ".state")).string();
        cfg.resume = o_.resume;
        if (const char* s = std::getenv("CNNC_INTERRUPT_AFTER_EPOCH")) cfg.interrupt_after = std::atoll(s);
        rt::Trainer trainer(net, *opt, cfg);
        rt::History h = trainer.fit(train, val);
        // A model trained by several statements (fine-tuning after training) gets one history each.
        int run = ++trained_count_[m.name];
        std::string stem = run == 1 ? m.name : fmt::format("{}_{}", m.name, run);
        std::string path = (fs::path(o_.output_dir) / (stem + "_history.csv")).string();
        h.write_csv(path);
        fmt::print("History: {}\n", path);
        std::string weights = (fs::path(o_.output_dir) / (m.name + ".weights.h5")).string();
        rt::save_weights(weights, net.params());
        fmt::print("Weights: {}\n", weights);
        for (const auto& cb : cfg.callbacks)
            for (const std::string& p : cb->outputs()) fmt::print("Checkpoint: {}\n", p);
        std::string why;
        auto plots = rt::write_plots(h, (fs::path(o_.output_dir) / stem).string(), m.name, &why);
        if (!plots.empty()) fmt::print("Plots: {}\n", fmt::join(plots, ", "));
        else if (!why.empty()) fmt::print("Plots: none ({})\n", why);
        trained_[m.name] = {t.loss, t.loss_args, t.metrics, seed};
    }

    void evaluate(const EvaluateSpec& e) {
        const Model& m = *c_.program.model(e.model);
        auto it = trained_.find(m.name);
        const LossKind* loss = it != trained_.end() ? it->second.loss : nullptr;
        BoundArgs largs = it != trained_.end() ? it->second.loss_args : BoundArgs{};
        std::vector<std::string> metrics = it != trained_.end() ? it->second.metrics : std::vector<std::string>{};
        if (!loss && train_of(m.name) && e.fields.is_none("loss")) {  // not trained in this run: the file's training says
            const TrainSpec& t = *train_of(m.name);
            loss = t.loss, largs = t.loss_args, metrics = t.metrics;
        }
        if (!loss) {
            const Value& lv = e.fields.get("loss");
            loss = find_builtin(losses(), lv.s);
            largs = *bind_args(loss->params, lv.kind == Value::Kind::Call ? lv.args : std::vector<NamedValue>{}, "loss", lv.loc,
                               const_cast<Diagnostics&>(c_.diags));
            const Value& mv = e.fields.get("metrics");
            for (const auto& x : mv.items) metrics.push_back(x.s);
        }
        int64_t batch = e.fields.is_none("batch_size") ? 32 : e.fields.integer("batch_size");
        uint64_t seed = it != trained_.end() ? it->second.seed : (o_.seed ? *o_.seed : 1337);
        const rt::Samples& data = samples(e.data, *loss);
        check_input(m, data, e.data);
        rt::Network& net = network(m, seed, std::max<int64_t>(batch, 1), false);
        if (!o_.weights.empty()) {
            load_weights_into(m.layers, "", "", net, rt::read_weights(o_.weights), o_.weights);
        } else if (!e.fields.is_none("weights")) {
            std::string file = resolve_path(e.fields.text("weights"), file_);
            load_weights_into(m.layers, "", "", net, rt::read_weights(file), file);
        }
        rt::Optimizer dummy({"sgd", {}});
        rt::Trainer trainer(net, dummy, fit_config(m, *loss, largs, metrics, batch, seed));
        fmt::print("Evaluating {} on {}.{}: {} samples\n", m.name, e.data.dataset, e.data.member, data.size());
        std::fflush(stdout);
        rt::EvalResult r = trainer.evaluate(data, true);
        std::string line;
        for (const auto& [k, v] : r.values) line += fmt::format("{}{}: {}", line.empty() ? "" : " - ", k, rt::format_value(v));
        fmt::print("{} on {}.{}: {}\n", m.name, e.data.dataset, e.data.member, line);
    }

    rt::FitConfig fit_config(const Model& m, const LossKind& loss, const BoundArgs& largs, const std::vector<std::string>& metrics,
                             int64_t batch, uint64_t seed) {
        rt::FitConfig cfg;
        cfg.batch_size = batch;
        cfg.seed = seed;
        cfg.loss.name = loss.name;
        cfg.loss.from_logits = largs.has("from_logits") && largs.flag("from_logits");
        cfg.loss.label_smoothing = largs.has("label_smoothing") ? largs.number("label_smoothing") : 0;
        cfg.output_activation = m.output_activation();
        for (const auto& name : metrics) cfg.metrics.push_back(rt::resolve_metric(name, cfg.loss, m.output().back()));
        cfg.interactive = o_.interactive;
        return cfg;
    }

    // The dataset's `rescale` factor (1 when it has none): samples, features and predict's images.
    static float rescale(const Dataset& ds) {
        return ds.options.is_none("rescale") ? 1.f : static_cast<float>(ds.options.number("rescale"));
    }

    const TrainSpec* train_of(const std::string& model) const {
        for (const TrainSpec& t : c_.program.trains)
            if (t.model == model) return &t;
        return nullptr;
    }

    // Fine-tuning: the statement's `unfreeze` layers train from here on.
    static void unfreeze(const TrainSpec& t, rt::Network& net) {
        for (rt::Param* p : net.params()) {
            std::string layer = p->name.substr(0, p->name.rfind('/'));
            std::string leaf = layer.substr(layer.rfind('/') == std::string::npos ? 0 : layer.rfind('/') + 1);
            if (std::find(t.unfreeze.begin(), t.unfreeze.end(), leaf) != t.unfreeze.end()) p->trainable = true;
        }
    }

    static void check_input(const Model& m, const rt::Samples& s, const DataRef& ref) {
        rt::Dims per(s.x.shape().begin() + 1, s.x.shape().end());
        if (rt::product(per) != m.input.elements() || (per.size() == m.input.rank() && per != m.input.dims))
            throw rt::UserError(fmt::format("{}.{} has samples of shape {} but model '{}' expects {}", ref.dataset, ref.member,
                                            rt::dims_str(per), m.name, m.input.str(false)));
    }

    struct Trained {
        const LossKind* loss;
        BoundArgs loss_args;
        std::vector<std::string> metrics;
        uint64_t seed;
    };
    const Compilation& c_;
    std::string file_;
    const RunOptions& o_;
    KernelCache& cache_;
    bool dry_ = false;  // prepare(): no weights files read
    std::map<std::string, rt::Samples> data_;
    std::map<std::string, std::unique_ptr<rt::Network>> nets_;
    std::map<std::string, std::unique_ptr<rt::Optimizer>> optimizers_;
    std::map<std::string, Trained> trained_;
    std::map<std::string, int> trained_count_;
};

}  // namespace

static int guarded(const Compilation& c, const std::string& file, const std::function<void()>& f) {
    try {
        f();
    } catch (const rt::UserError& e) {
        std::fflush(stdout);
        if (e.where.file >= 0)
            fmt::print(stderr, "{}", c.diags.render_one({Severity::Error, {e.where.file, e.where.line, e.where.col, e.where.len}, e.what(), {}}));
        else
            fmt::print(stderr, "{}: error: {}\n", file, e.what());
        return 1;
    }
    return 0;
}

int run_program(const Compilation& c, const std::string& file, const RunOptions& o, KernelCache& kernels) {
    return guarded(c, file, [&] { Runner(c, file, o, kernels).run(); });
}

int evaluate_program(const Compilation& c, const std::string& file, const RunOptions& o, KernelCache& kernels) {
    return guarded(c, file, [&] { Runner(c, file, o, kernels).evaluate_only(); });
}

int predict_images(const Compilation& c, const std::string& file, const RunOptions& o, const std::string& model,
                   const std::vector<std::string>& images, KernelCache& kernels) {
    return guarded(c, file, [&] { Runner(c, file, o, kernels).predict(model, images); });
}

void prepare_program(const Compilation& c, const std::string& file, KernelCache& kernels) {
    RunOptions o;
    Runner(c, file, o, kernels).prepare();
}

}  // namespace cnnc::engine
