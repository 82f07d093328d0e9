#include "data/Records.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "Error.h"

namespace cnnc::rt {

RecordStream::RecordStream(RecordLayout x, std::vector<int64_t> records, Tensor y, float rescale)
    : x_(std::move(x)),
      records_(std::move(records)),
      y_(std::move(y)),
      rescale_(rescale),
      record_bytes_(static_cast<size_t>(x_.item) * static_cast<size_t>(product(x_.sample))),
      buf_(record_bytes_) {
    fd_ = ::open(x_.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw UserError(fmt::format("{}: cannot open: {}", x_.path, std::strerror(errno)));
}

RecordStream::~RecordStream() { ::close(fd_); }

void RecordStream::advise(size_t batch) const {
    if (batch >= plan_.size()) return;
    for (int64_t id : plan_[batch])
        ::posix_fadvise(fd_, static_cast<off_t>(x_.offset + static_cast<uint64_t>(records_[static_cast<size_t>(id)]) * record_bytes_),
                        static_cast<off_t>(record_bytes_), POSIX_FADV_WILLNEED);
}

void RecordStream::plan(std::vector<std::vector<int64_t>> batches) {
    plan_ = std::move(batches);
    next_ = 0;
    advise(0);
}

void RecordStream::fetch(const std::vector<int64_t>& ids, Batch& into) {
    if (next_ < plan_.size() && plan_[next_] == ids) advise(++next_);  // the next batch loads while this one trains
    into.x.resize(1);
    into.y.resize(1);
    into.size = static_cast<int64_t>(ids.size());
    Dims shape = x_.sample;
    shape.insert(shape.begin(), into.size);
    Tensor& x = into.x[0];
    x.resize(shape);
    const int64_t per = product(x_.sample);
    for (size_t i = 0; i < ids.size(); ++i) {
        if (ids[i] < 0 || ids[i] >= size()) throw std::logic_error("internal: sample " + std::to_string(ids[i]) + " of " + std::to_string(size()));
        const uint64_t at = x_.offset + static_cast<uint64_t>(records_[static_cast<size_t>(ids[i])]) * record_bytes_;
        for (size_t have = 0; have < record_bytes_;) {
            ssize_t r = ::pread(fd_, buf_.data() + have, record_bytes_ - have, static_cast<off_t>(at + have));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) throw UserError(fmt::format("{}: cannot read sample {} ({}; the file changed while training?)", x_.path,
                                                    records_[static_cast<size_t>(ids[i])], r < 0 ? std::strerror(errno) : "end of file"));
            have += static_cast<size_t>(r);
        }
        float* dst = x.data() + static_cast<int64_t>(i) * per;
        x_.to_floats(buf_.data(), per, dst);
        if (rescale_ != 1.f)
            for (int64_t k = 0; k < per; ++k) dst[k] *= rescale_;
    }
    gather_rows(y_, ids, into.y[0]);
}

}  // namespace cnnc::rt
