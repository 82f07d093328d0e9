#include "engine/Streamed.h"

#include <fmt/format.h>

#include "data/ImageStream.h"
#include "engine/DataChecks.h"
#include "engine/Labels.h"

namespace cnnc::engine {

std::unique_ptr<rt::Source> open_stream(const Dataset& ds, const DatasetMember& m, const std::string& name, const LossKind& loss,
                                        const Model& model, const std::string& statement, SourceReader& reader, float rescale) {
    std::optional<StreamedImages> s = streamed_source(*m.source, {m.args, name, ds.labels, ds.classes, reader});
    if (!s) return nullptr;
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
