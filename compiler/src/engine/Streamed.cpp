#include "engine/Streamed.h"

#include <fmt/format.h>

#include "Error.h"
#include "data/ImageStream.h"
#include "data/Records.h"
#include "engine/DataChecks.h"
#include "engine/Labels.h"

namespace cnnc::engine {

void check_sample_shape(const Model& model, const rt::Dims& per, const std::string& member) {
    if (model.inputs.size() > 1) return;
    if (rt::product(per) != model.input.elements() || (per.size() == model.input.rank() && per != model.input.dims))
        throw rt::UserError(fmt::format("{} has samples of shape {} but model '{}' expects {}", member, rt::dims_str(per), model.name,
                                        model.input.str(false)));
}

namespace {

// A member of fixed-size records (npy, idx) read from its file as training goes, or null.
std::unique_ptr<rt::Source> open_records(const Dataset& ds, const DatasetMember& m, const std::string& name, const LossKind& loss,
                                         const Model& model, const std::string& statement, SourceReader& reader, float rescale) {
    if (!m.source->records) return nullptr;
    if (takes_token_ids(model)) {  // every token id is checked before training, so the member is read whole
        const Value& cache = m.args.get("cache");
        if (cache.is_name() && cache.s == "none")
            throw rt::UserError(fmt::format("{}: cache = none: model '{}' reads token ids, which are checked before training; leave out "
                                            "cache to read them whole",
                                            name, model.name));
        return nullptr;
    }
    std::optional<StreamedRecords> r = streamed_records(*m.source, {m.args, name, ds.labels, ds.classes, reader});
    if (!r) return nullptr;
    check_sample_shape(model, r->x.sample, name);
    check_labels(r->labels, DataOrigin{r->x.path, reader.path(m.args.text(m.source->labels_arg)), {}}, ds, loss, model, statement);
    fmt::print("{}: read from {} as training goes, {} samples\n", name, r->x.path, r->records.size());
    return std::make_unique<rt::RecordStream>(std::move(r->x), std::move(r->records), encode_labels(r->labels, ds, loss), rescale);
}

}  // namespace

std::unique_ptr<rt::Source> open_stream(const Dataset& ds, const DatasetMember& m, const std::string& name, const LossKind& loss,
                                        const Model& model, const std::string& statement, SourceReader& reader, float rescale) {
    std::optional<StreamedImages> s = streamed_source(*m.source, {m.args, name, ds.labels, ds.classes, reader});
    if (!s) return open_records(ds, m, name, loss, model, statement, reader, rescale);
    const std::string folder = reader.path(m.args.text(m.source->inputs_arg));
    check_labels(s->files.labels, DataOrigin{folder, folder, {}}, ds, loss, model, statement);
    std::string said;
    std::shared_ptr<rt::ImageCache> cache = rt::open_image_cache(s->cache, s->files.paths, s->options, name, said);
    fmt::print("{}: streamed from disk, {} images ({} decoding threads)\n", name, s->files.paths.size(), s->options.threads);
    if (!said.empty()) fmt::print("{}\n", said);
    rt::StreamOptions so;
    so.threads = s->options.threads;
    so.rescale = rescale;
    return std::make_unique<rt::ImageStream>(s->files.paths, encode_labels(s->files.labels, ds, loss), s->options, so, std::move(cache));
}

}  // namespace cnnc::engine
