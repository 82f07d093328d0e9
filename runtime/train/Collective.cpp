#include "train/Collective.h"

namespace cnnc::rt {

namespace {

class SingleProcess : public Collective {
  public:
    int rank() const override { return 0; }
    int size() const override { return 1; }
    void allreduce_sum(float*, size_t) override {}
    void allreduce_sum(double*, size_t) override {}
    void start_sum(float*, size_t) override {}
    void progress() override {}
    void wait_all() override {}
    void broadcast(double*, size_t, int) override {}
    void barrier() override {}
};

std::unique_ptr<Collective>& installed() {
    static std::unique_ptr<Collective> w = std::make_unique<SingleProcess>();
    return w;
}

}  // namespace

Collective& world() { return *installed(); }

void set_world(std::unique_ptr<Collective> w) { installed() = w ? std::move(w) : std::make_unique<SingleProcess>(); }

Shard shard(int64_t n, int rank, int size) {
    return Shard{n * rank / size, n * (rank + 1) / size};
}

}  // namespace cnnc::rt
