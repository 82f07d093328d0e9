#include "engine/Run.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <filesystem>
#include <map>

#include "Error.h"
#include "data/Idx.h"
#include "data/ImageFolder.h"
#include "data/Table.h"
#include "engine/DataChecks.h"
#include "engine/LoadWeights.h"
#include "io/AtomicFile.h"
#include "io/Weights.h"
#include "sema/Bind.h"
#include "engine/Build.h"
#include "engine/Labels.h"
#include "train/Interrupt.h"
#include "train/Plots.h"
#include "train/Trainer.h"

namespace fs = std::filesystem;

namespace cnnc::engine {

namespace {

// Data paths resolve as the checker found them (frontend/DataPaths.h).
std::string resolve_path(const std::string& p, const std::string& model_file) { return resolve_data_path(p, model_file); }

class Runner {
  public:
    Runner(const Compilation& c, std::string file, const RunOptions& o, KernelCache& kernels)
        : c_(c), file_(std::move(file)), o_(o), cache_(kernels) {}

    void run() {
        if (!c_.program.trains.empty()) rt::check_writable_directory(o_.output_dir, "--output-dir");  // before hours of training
        // A model trained by several statements (fine-tuning after training) gets one history and
        // one training state each: <model>, <model>_2, ...
        std::map<std::string, int> count;
        for (const TrainSpec& t : c_.program.trains) {
            int n = ++count[t.model];
            stems_.push_back(n == 1 ? t.model : fmt::format("{}_{}", t.model, n));
        }
        // A new run: states an earlier run left are not this run's to resume.
        if (!o_.resume)
            for (size_t i = 0; i < stems_.size(); ++i) std::remove(state_path(i).c_str());
        // Every train statement in file order, then every evaluate: an evaluation sees the weights
        // its model's training left.
        for (size_t i = 0; i < c_.program.trains.size(); ++i) train(c_.program.trains[i], i);
        for (const EvaluateSpec& e : c_.program.evaluates) evaluate(e);
        // The whole run is done: no statement is left to resume.
        for (size_t i = 0; i < stems_.size(); ++i) std::remove(state_path(i).c_str());
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
            io.interpolation = rt::interpolation_named(dm->args.text("interpolation"));
            io.crop_to_aspect_ratio = dm->args.flag("crop_to_aspect_ratio");
            std::error_code ec;
            fs::path dir = resolve_path(dm->args.text("directory"), file_);
            for (const auto& e : fs::directory_iterator(dir, ec))
                if (std::error_code bad; e.is_directory(bad)) classes.push_back(e.path().filename().string());
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
    // A dataset member's samples encoded for `loss`, after checking that the labels fit the loss
    // and the inputs fit model `m` (token ids in its Embedding's range): `statement` (the train or
    // evaluate that reads them) names where the data is used.
    const rt::Samples& samples(const DataRef& ref, const LossKind& loss, const Model& model, const std::string& statement) {
        std::string key = ref.dataset + "." + ref.member + "|" + loss.labels;
        auto it = data_.find(key);
        if (it == data_.end()) {
            const Dataset& ds = *c_.program.dataset(ref.dataset);
            const DatasetMember& m = *ds.member(ref.member);
            Loaded d;
            rt::LabeledRows rows = load_located(ref, m);
            d.s.x = std::move(rows.x);
            if (float r = rescale(ds); r != 1.f)
                for (int64_t i = 0; i < d.s.x.size(); ++i) d.s.x[i] *= r;
            d.origin = origin(m, std::move(rows.lines));
            d.labels = std::move(rows.labels);
            check_labels(d.labels, d.origin, ds, loss, model, statement);
            d.s.y = encode_labels(d.labels, ds, loss);
            it = data_.emplace(key, std::move(d)).first;
        } else {
            check_labels(it->second.labels, it->second.origin, *c_.program.dataset(ref.dataset), loss, model, statement);
        }
        check_token_ids(model, it->second.s.x, it->second.origin, statement);
        return it->second.s;
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
        check_token_ids(fm, in.x, origin(*sds.member(src.member), std::move(in.lines)), "features(" + fm.name + ", " + dv.s + ")");
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
            o.delimiter = m.args.text("delimiter").at(0);  // the checker made it one character
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
            o.interpolation = rt::interpolation_named(m.args.text("interpolation"));
            o.crop_to_aspect_ratio = m.args.flag("crop_to_aspect_ratio");
            o.skip_corrupt = m.args.flag("skip_corrupt");
            std::vector<std::string> classes, skipped, ignored;
            rows = rt::load_image_folder(resolve_path(m.args.text("directory"), file_), o, &classes, &skipped, &ignored);
            for (const std::string& f : ignored)
                fmt::print(stderr, "warning: {}.{}: ignored {}, not an image file\n", ref.dataset, ref.member, f);
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
        const bool has_split = !m.args.is_none("validation_split");  // with its subset: the checker sees to it
        // image_directory(shuffle = false) keeps the sorted file order, split included, as Keras does;
        // shuffle = true (and the other sources) shuffle with the seed first.
        bool shuffle = !m.args.has("shuffle") || m.args.flag("shuffle");
        uint64_t seed = m.args.is_none("seed") ? 1337 : static_cast<uint64_t>(m.args.integer("seed"));
        if (has_split) rows = rt::take_subset(rows, m.args.number("validation_split"), m.args.text("subset") == "validation", seed, shuffle);
        else if (m.args.has("shuffle") && shuffle) rows = rt::take_subset(rows, 0, false, seed, true);
        return rows;
    }

    // The files a member's samples come from, and `lines` (each sample's line, for text files).
    DataOrigin origin(const DatasetMember& m, std::vector<int64_t> lines) {
        const std::string& src = m.source->name;
        DataOrigin o;
        if (src == "features") {
            const std::string& from = m.args.get("data").s;
            const Dataset& ds = *c_.program.dataset(from.substr(0, from.find('.')));
            o = origin(*ds.member(from.substr(from.find('.') + 1)), {});
        } else {
            const char* inputs = src == "idx" ? "images" : src == "image_directory" ? "directory" : "path";
            o.inputs = resolve_path(m.args.text(inputs), file_);
            o.labels = src == "idx" ? resolve_path(m.args.text("labels"), file_) : o.inputs;
        }
        o.lines = std::move(lines);
        return o;
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

    // The test hook CNNC_INTERRUPT_AFTER_EPOCH: "E" stops every statement after its epoch E,
    // "S:E" only the S-th train statement of the file.
    static int64_t interrupt_after(int statement) {
        const char* s = std::getenv("CNNC_INTERRUPT_AFTER_EPOCH");
        if (!s) return -1;
        const char* colon = std::strchr(s, ':');
        if (!colon) return std::atoll(s);
        return std::atoi(s) == statement ? std::atoll(colon + 1) : -1;
    }

    std::string state_path(size_t index) const { return (fs::path(o_.output_dir) / (stems_[index] + ".state")).string(); }

    // `index`: its position among the file's train statements.
    void train(const TrainSpec& t, size_t index) {
        const Model& m = *c_.program.model(t.model);
        uint64_t seed = o_.seed ? *o_.seed : t.fields.is_none("seed") ? 1337 : static_cast<uint64_t>(t.fields.integer("seed"));
        std::string statement = fmt::format("train {} on {}.{} (line {})", m.name, t.data.dataset, t.data.member, t.data.loc.line);
        const rt::Samples& train = samples(t.data, *t.loss, m, statement);
        const rt::Samples* val = t.has_validation ? &samples(t.validation, *t.loss, m, statement) : nullptr;
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
        const std::string& stem = stems_[index];
        cfg.state_path = state_path(index);
        // Saved in the state and compared on resume: what must be equal for the state to apply.
        cfg.statement = fmt::format("train statement {} of the file (model {}, seed {})", index + 1, m.name, seed);
        cfg.resume = o_.resume;
        cfg.interrupt_after = interrupt_after(static_cast<int>(index) + 1);
        rt::Trainer trainer(net, *opt, cfg);
        rt::History h = trainer.fit(train, val);
        // The outputs replace the old ones together, or none of them does (a full disk).
        rt::StagedFiles outputs;
        std::string path = (fs::path(o_.output_dir) / (stem + "_history.csv")).string();
        outputs.stage_contents(path, h.csv());
        std::string weights = (fs::path(o_.output_dir) / (m.name + ".weights.h5")).string();
        rt::save_weights(weights, net.params(), &outputs);
        std::string why;
        auto plots = rt::write_plots(h, (fs::path(o_.output_dir) / stem).string(), m.name, outputs, &why);
        outputs.commit();
        fmt::print("History: {}\nWeights: {}\n", path, weights);
        for (const auto& cb : cfg.callbacks)
            for (const std::string& p : cb->outputs()) fmt::print("Checkpoint: {}\n", p);
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
        const rt::Samples& data =
            samples(e.data, *loss, m, fmt::format("evaluate {} on {}.{} (line {})", m.name, e.data.dataset, e.data.member, e.data.loc.line));
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
        if (!std::isfinite(r.loss)) {
            std::string weights = !o_.weights.empty() ? o_.weights
                                  : !e.fields.is_none("weights") ? resolve_path(e.fields.text("weights"), file_)
                                  : it != trained_.end() ? "the weights trained in this run" : "the model's initial weights";
            throw rt::UserError(fmt::format("evaluating {} on {}.{}: the loss is {} (weights: {}); the weights or the data hold values "
                                            "that do not compute",
                                            m.name, e.data.dataset, e.data.member, std::isnan(r.loss) ? "NaN" : "infinite", weights));
        }
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

    // Samples as loaded, with what data errors name: the files and where each sample came from.
    struct Loaded {
        rt::Samples s;
        std::vector<int32_t> labels;
        DataOrigin origin;
    };
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
    std::map<std::string, Loaded> data_;
    std::map<std::string, std::unique_ptr<rt::Network>> nets_;
    std::map<std::string, std::unique_ptr<rt::Optimizer>> optimizers_;
    std::map<std::string, Trained> trained_;
    std::vector<std::string> stems_;  // each train statement's output names: <model>, <model>_2...
};

}  // namespace

static int guarded(const Compilation& c, const std::string& file, const RunOptions& o, const std::function<void()>& f) {
    try {
        f();
    } catch (const rt::Interrupted& e) {
        std::fflush(stdout);
        fmt::print(stderr, "{}: {}\nTo continue where it stopped: {}\n", file, e.what(), o.resume_command);
        return e.exit_code();
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
    return guarded(c, file, o, [&] { Runner(c, file, o, kernels).run(); });
}

int evaluate_program(const Compilation& c, const std::string& file, const RunOptions& o, KernelCache& kernels) {
    return guarded(c, file, o, [&] { Runner(c, file, o, kernels).evaluate_only(); });
}

int predict_images(const Compilation& c, const std::string& file, const RunOptions& o, const std::string& model,
                   const std::vector<std::string>& images, KernelCache& kernels) {
    return guarded(c, file, o, [&] { Runner(c, file, o, kernels).predict(model, images); });
}

void prepare_program(const Compilation& c, const std::string& file, KernelCache& kernels) {
    RunOptions o;
    Runner(c, file, o, kernels).prepare();
}

}  // namespace cnnc::engine
