#include "engine/Run.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <filesystem>
#include <map>

#include "Error.h"
#include "sema/Written.h"
#include "engine/Arrays.h"
#include "engine/Build.h"
#include "engine/DataChecks.h"
#include "engine/Features.h"
#include "engine/Labels.h"
#include "engine/LoadWeights.h"
#include "engine/Predict.h"
#include "engine/Streamed.h"
#include "io/AtomicFile.h"
#include "io/Weights.h"
#include "sema/Bind.h"
#include "train/Interrupt.h"
#include "train/Plots.h"
#include "train/Trainer.h"

namespace fs = std::filesystem;

namespace cnnc::engine {

namespace {

class Runner : public SourceReader {
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
        if (m->inputs.size() > 1 || m->outputs.size() > 1)
            throw rt::UserError(fmt::format("predict reads images for a model with one input and one output; model '{}' has {} inputs "
                                            "and {} outputs (evaluate it on data keyed by their names instead)",
                                            m->name, m->inputs.size(), m->outputs.size()));
        const rt::Dims& in = m->input.dims;
        if (in.size() != 3 || (in[2] != 1 && in[2] != 3 && in[2] != 4))
            throw rt::UserError(fmt::format("model '{}' takes inputs of shape {}, not images (height, width, 1, 3 or 4 channels)",
                                            m->name, m->input.str(false)));
        // Read the images as the model's training data was read: its size, interpolation, crop and rescale.
        const TrainSpec* t = train_of(m->name);
        const Dataset* ds = t ? c_.program.dataset(t->data.dataset) : nullptr;
        const DatasetMember* dm = ds ? ds->member(t->data.member) : nullptr;
        ImageReading reading;
        if (dm && dm->source->images) reading = dm->source->images(dm->args, *this);
        reading.options.height = in[0], reading.options.width = in[1], reading.options.channels = static_cast<int>(in[2]);
        rt::Tensor x = read_images(images, *m, reading.options, ds ? rescale(*ds) : 1.f);
        const int64_t n = static_cast<int64_t>(images.size());
        rt::Network& net = network(*m, 1337, n, false);
        load_weights_into(m->layers, "", "", net, rt::read_weights(o_.weights), o_.weights);
        // The dataset's class_names when it gives them, else the names its source found (folders).
        const std::vector<std::string>& classes = ds && !ds->class_names.empty() ? ds->class_names : reading.classes;
        print_predictions(images, net.forward(x.view(), rt::StepInfo{false, 0, 0}), classes, m->output_activation());
    }

    std::string path(const std::string& written) const override { return resolve_data_path(written, file_); }

    // features(model, data): the data run once through the model (in inference).
    rt::LabeledRows features(const std::string& model, const Value& dv) override {
        const Model& fm = *c_.program.model(model);
        DataRef src{dv.s.substr(0, dv.s.find('.')), dv.s.substr(dv.s.find('.') + 1), dv.loc};
        const Dataset& sds = *c_.program.dataset(src.dataset);
        rt::LabeledRows in = load_located(src, *sds.member(src.member));
        if (float r = rescale(sds); r != 1.f)
            for (int64_t i = 0; i < in.x.size(); ++i) in.x[i] *= r;
        check_token_ids(fm, in.x, origin(*sds.member(src.member), std::move(in.lines)), "features(" + fm.name + ", " + dv.s + ")");
        rt::Network& net = network(fm, o_.seed ? *o_.seed : 1337, kFeatureBatch, false);
        return extract_features(fm, net, std::move(in), dv.s);
    }

  private:
    // A dataset member's samples encoded for `loss`, after checking that the labels fit the loss
    // and the inputs fit model `m` (token ids in its Embedding's range): `statement` (the train or
    // evaluate that reads them) names where the data is used.
    const rt::Samples& samples(const DataRef& ref, const std::vector<OutputTraining>& outs, const Model& model,
                               const std::string& statement) {
        const Dataset& ds = *c_.program.dataset(ref.dataset);
        if (keyed_arrays(*ds.member(ref.member))) return arrays(ref, outs, model);
        const LossKind& loss = *outs.front().loss;
        std::string key = ref.dataset + "." + ref.member + "|" + loss.labels;
        auto it = data_.find(key);
        if (it == data_.end()) {
            const DatasetMember& m = *ds.member(ref.member);
            Loaded d;
            rt::LabeledRows rows = load_located(ref, m);
            if (float r = rescale(ds); r != 1.f)
                for (int64_t i = 0; i < rows.x.size(); ++i) rows.x[i] *= r;
            d.s.x.push_back(std::move(rows.x));
            d.origin = origin(m, std::move(rows.lines));
            d.labels = std::move(rows.labels);
            check_labels(d.labels, d.origin, ds, loss, model, statement);
            d.s.y.push_back(encode_labels(d.labels, ds, loss));
            it = data_.emplace(key, std::move(d)).first;
        } else {
            check_labels(it->second.labels, it->second.origin, *c_.program.dataset(ref.dataset), loss, model, statement);
        }
        check_token_ids(model, it->second.s.x.front(), it->second.origin, statement);
        return it->second.s;
    }

    // A member that gives one array per input and output (engine/Arrays.h), read once per set of
    // losses (which decide how the targets are checked).
    const rt::Samples& arrays(const DataRef& ref, const std::vector<OutputTraining>& outs, const Model& model) {
        std::string key = ref.dataset + "." + ref.member + "|";
        for (const OutputTraining& o : outs) key += o.output + ":" + o.loss->name + ",";
        auto it = data_.find(key);
        if (it != data_.end()) return it->second.s;
        const Dataset& ds = *c_.program.dataset(ref.dataset);
        const DatasetMember& m = *ds.member(ref.member);
        Arrays a = located(m, [&] { return load_arrays(model, m, outs, [&](const std::string& p) { return path(p); }, rescale(ds)); });
        Loaded d;
        d.s.x = std::move(a.x);
        d.s.y = std::move(a.y);
        return data_.emplace(key, std::move(d)).first->second.s;
    }

    // A member as the Trainer reads it: streamed from disk (engine/Streamed.h), or its samples()
    // in memory, whose inputs are checked against the model's (a stream's shape the checker saw).
    // Only a single-output model's data can stream: an image folder gives one label per sample.
    std::unique_ptr<rt::Source> source(const DataRef& ref, const std::vector<OutputTraining>& outs, const Model& model,
                                       const std::string& statement) {
        const Dataset& ds = *c_.program.dataset(ref.dataset);
        const DatasetMember& m = *ds.member(ref.member);
        if (outs.size() == 1) {
            std::unique_ptr<rt::Source> s = located(m, [&] {
                return open_stream(ds, m, ref.dataset + "." + ref.member, *outs.front().loss, model, statement, *this, rescale(ds));
            });
            if (s) return s;
        }
        const rt::Samples& loaded = samples(ref, outs, model, statement);
        check_input(model, loaded, ref);
        return std::make_unique<rt::MemorySource>(loaded);
    }

    // load(), with an error about the data located at the member that names it.
    rt::LabeledRows load_located(const DataRef& ref, const DatasetMember& m) {
        return located(m, [&] { return load(ref, m); });
    }

    // What `read` returns; an error it throws about the data is located at member `m`.
    template <class Read>
    static auto located(const DatasetMember& m, Read read) -> decltype(read()) {
        try {
            return read();
        } catch (rt::UserError& e) {
            SrcLoc at = m.args.call_loc.valid() ? m.args.call_loc : m.loc;
            if (e.where.file < 0) e.where = {at.file, at.line, at.col, at.len};
            throw;
        }
    }

    // A dataset member's samples and integer labels, as its source reads them.
    rt::LabeledRows load(const DataRef& ref, const DatasetMember& m) {
        const Dataset& ds = *c_.program.dataset(ref.dataset);
        return read_source(*m.source, {m.args, ref.dataset + "." + ref.member, ds.labels, ds.classes, *this});
    }

    // The files a member's samples come from, and `lines` (each sample's line, for text files).
    DataOrigin origin(const DatasetMember& m, std::vector<int64_t> lines) {
        const SourceKind& src = *m.source;
        DataOrigin o;
        if (!src.member_arg.empty()) {
            const std::string& from = m.args.get(src.member_arg).s;
            const Dataset& ds = *c_.program.dataset(from.substr(0, from.find('.')));
            o = origin(*ds.member(from.substr(from.find('.') + 1)), {});
        } else {
            o.inputs = path(m.args.text(src.inputs_arg));
            o.labels = path(m.args.text(src.labels_arg));
        }
        o.lines = std::move(lines);
        return o;
    }

    rt::Network& network(const Model& m, uint64_t seed, int64_t batch, bool training) {
        auto& net = nets_[m.name];
        rt::ExitOnInterrupt compiling(file_);  // building and preparing the network compile its kernels
        if (!net) {
            net = build_network(m, cache_, seed);
            if (!dry_) load_block_weights(m.layers, "", *net, file_, [&](const std::string& p) { return path(p); });
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
        std::unique_ptr<rt::Source> train = source(t.data, t.outputs, m, statement);
        std::unique_ptr<rt::Source> val = t.has_validation ? source(t.validation, t.outputs, m, statement) : nullptr;
        if (!t.unfreeze.empty()) unfreeze(t, network(m, seed, t.batch_size, false));
        rt::Network& net = network(m, seed, t.batch_size, true);
        auto& opt = optimizers_[m.name];
        opt = t.optimizer.kind->make(t.optimizer.kind->name, t.optimizer.args);
        if (!t.fields.is_none("weights")) load_training_weights(m, net, *opt, path(t.fields.text("weights")));
        rt::FitConfig cfg = fit_config(m, t.outputs, t.batch_size, seed);
        cfg.epochs = o_.epochs ? *o_.epochs : t.epochs;
        cfg.initial_epoch = t.fields.integer("initial_epoch");
        // A member with shuffle = false trains in its file order, as a Keras dataset made with it.
        const BoundArgs& member = c_.program.dataset(t.data.dataset)->member(t.data.member)->args;
        cfg.shuffle = t.fields.flag("shuffle") && !(member.has("shuffle") && !member.is_none("shuffle") && !member.flag("shuffle"));
        cfg.data_wait = dynamic_cast<rt::MemorySource*>(train.get()) == nullptr;
        for (const CallbackSpec& cb : t.callbacks) cfg.callbacks.push_back(cb.kind->make(cb.args, o_.output_dir));
        fmt::print("Training {} on {}.{}: {} samples, batch {}, {} epochs ({})\n", m.name, t.data.dataset, t.data.member, train->size(),
                   t.batch_size, cfg.epochs, cache_.describe());
        std::fflush(stdout);
        const std::string& stem = stems_[index];
        cfg.state_path = state_path(index);
        // Saved in the state and compared on resume: what must be equal for the state to apply.
        cfg.statement = fmt::format("train statement {} of the file (model {}, seed {})", index + 1, m.name, seed);
        cfg.resume = o_.resume;
        cfg.interrupt_after = interrupt_after(static_cast<int>(index) + 1);
        rt::Trainer trainer(net, *opt, cfg);
        rt::History h = trainer.fit(*train, val.get());
        // The outputs replace the old ones together, or none of them does (a full disk).
        rt::StagedFiles outputs;
        std::string history = (fs::path(o_.output_dir) / (stem + "_history.csv")).string();
        outputs.stage_contents(history, h.csv());
        std::string weights = (fs::path(o_.output_dir) / (m.name + ".weights.h5")).string();
        rt::save_trained_weights(weights, net.params(), net.keras_groups, opt.get(), &outputs);
        std::string why;
        auto plots = rt::write_plots(h, (fs::path(o_.output_dir) / stem).string(), m.name, outputs, &why);
        outputs.commit();
        fmt::print("History: {}\nWeights: {}\n", history, weights);
        for (const auto& cb : cfg.callbacks)
            for (const rt::Output& o : cb->outputs()) fmt::print("{}: {}\n", o.what, o.path);
        if (!plots.empty()) fmt::print("Plots: {}\n", fmt::join(plots, ", "));
        else if (!why.empty()) fmt::print("Plots: none ({})\n", why);
        trained_[m.name] = {t.outputs, seed};
    }

    void evaluate(const EvaluateSpec& e) {
        const Model& m = *c_.program.model(e.model);
        auto it = trained_.find(m.name);
        // The losses of the model's training in this run, else of the statement's own `loss = ...`,
        // else of the file's training of it (not run now: `cnnc evaluate`).
        std::vector<OutputTraining> outs = it != trained_.end() ? it->second.outputs
                                           : !e.outputs.empty() ? e.outputs
                                                                : train_of(m.name)->outputs;
        int64_t batch = e.fields.is_none("batch_size") ? 32 : e.fields.integer("batch_size");
        uint64_t seed = it != trained_.end() ? it->second.seed : (o_.seed ? *o_.seed : 1337);
        std::unique_ptr<rt::Source> data =
            source(e.data, outs, m, fmt::format("evaluate {} on {}.{} (line {})", m.name, e.data.dataset, e.data.member, e.data.loc.line));
        rt::Network& net = network(m, seed, std::max<int64_t>(batch, 1), false);
        if (!o_.weights.empty()) {
            load_weights_into(m.layers, "", "", net, rt::read_weights(o_.weights), o_.weights);
        } else if (!e.fields.is_none("weights")) {
            std::string file = path(e.fields.text("weights"));
            load_weights_into(m.layers, "", "", net, rt::read_weights(file), file);
        }
        auto unused = make_optimizer({"sgd", {}, {}});  // evaluation takes no step
        rt::Trainer trainer(net, *unused, fit_config(m, outs, batch, seed));
        fmt::print("Evaluating {} on {}.{}: {} samples\n", m.name, e.data.dataset, e.data.member, data->size());
        std::fflush(stdout);
        rt::EvalResult r = trainer.evaluate(*data, true);
        if (!std::isfinite(r.loss)) {
            std::string weights = !o_.weights.empty() ? o_.weights
                                  : !e.fields.is_none("weights") ? path(e.fields.text("weights"))
                                  : it != trained_.end() ? "the weights trained in this run" : "the model's initial weights";
            throw rt::UserError(fmt::format("evaluating {} on {}.{}: the loss is {} (weights: {}); the weights or the data hold values "
                                            "that do not compute",
                                            m.name, e.data.dataset, e.data.member, std::isnan(r.loss) ? "NaN" : "infinite", weights));
        }
        std::string line;
        for (const auto& [k, v] : r.values) line += fmt::format("{}{}: {}", line.empty() ? "" : " - ", k, rt::format_value(v));
        fmt::print("{} on {}.{}: {}\n", m.name, e.data.dataset, e.data.member, line);
    }

    rt::FitConfig fit_config(const Model& m, const std::vector<OutputTraining>& outs, int64_t batch, uint64_t seed) {
        rt::FitConfig cfg;
        cfg.batch_size = batch;
        cfg.seed = seed;
        for (size_t k = 0; k < outs.size(); ++k) {
            rt::OutputLoss o;
            o.name = outs[k].output;
            o.loss = outs[k].loss->make(outs[k].loss->name, outs[k].loss_args);
            o.weight = outs[k].weight;
            o.activation = m.output_activation(k);
            for (const auto& name : outs[k].metrics) o.metrics.push_back(resolve_metric(name, *outs[k].loss, m.output(k).back()));
            cfg.outputs.push_back(std::move(o));
        }
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
            if (std::find(t.unfreeze.begin(), t.unfreeze.end(), leaf) != t.unfreeze.end()) p->trainable = !p->state;
        }
    }

    // Keyed arrays are checked as they are read (engine/Arrays.cpp); a single input here.
    static void check_input(const Model& m, const rt::Samples& s, const DataRef& ref) {
        check_sample_shape(m, rt::Dims(s.x.front().shape().begin() + 1, s.x.front().shape().end()), ref.dataset + "." + ref.member);
    }

    // Samples as loaded, with what data errors name: the files and where each sample came from.
    struct Loaded {
        rt::Samples s;
        std::vector<int32_t> labels;
        DataOrigin origin;
    };
    struct Trained {
        std::vector<OutputTraining> outputs;
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
