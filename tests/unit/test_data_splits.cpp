// A dataset member's `shuffle`, `seed`, `validation_split` and `subset` for every source of array
// data (idx, csv, sequences, npy, keyed npy), read from real files the test writes: ten samples
// whose value is their position, so the order a member yields is read back from its samples.
// Expected orders: the last int(0.3 n) samples by hand (fit(validation_split)'s rule), and the
// seeded shuffle written out here (Fisher-Yates over the documented generator), not taken from
// the program's own subset code.
#include <filesystem>
#include <fstream>

#include "EngineHelpers.h"
#include "Error.h"
#include "TempDir.h"
#include "TestData.h"
#include "engine/Arrays.h"
#include "frontend/DataPaths.h"
#include "train/Random.h"

using namespace cnnc;
using test::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr int kN = 10;

// The samples' positions in the order a seeded shuffle gives (docs/DATA.md: the member's seed,
// 1337 when not given, through derive_seed(seed, 11), then Fisher-Yates from the last position).
std::vector<int64_t> shuffled(uint64_t seed) {
    std::vector<int64_t> v(kN);
    for (int i = 0; i < kN; ++i) v[static_cast<size_t>(i)] = i;
    rt::Rng rng(rt::derive_seed(seed, 11));
    for (int i = kN - 1; i > 0; --i) std::swap(v[static_cast<size_t>(i)], v[rng.below(static_cast<uint64_t>(i + 1))]);
    return v;
}
std::vector<int64_t> iota(int from, int to) {
    std::vector<int64_t> v;
    for (int i = from; i < to; ++i) v.push_back(i);
    return v;
}
std::vector<int64_t> part(const std::vector<int64_t>& v, size_t from, size_t to) { return {v.begin() + from, v.begin() + to}; }

template <class T>
std::string raw(const std::vector<T>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// Sample i is i (a pixel, a column, a token i + 1 after its label) with label i % 3, in each format.
void write_files(const fs::path& d) {
    test::write_idx(d / "im", d / "lb", kN, 1, 1, [](int i, int, int) { return static_cast<unsigned char>(i); }, [](int i) { return i % 3; });
    std::ofstream csv(d / "t.csv"), seq(d / "s.txt");
    csv << "v,label\n";
    std::vector<float> x;
    std::vector<uint8_t> y;
    for (int i = 0; i < kN; ++i) {
        csv << i << "," << i % 3 << "\n";
        seq << i % 3 << " " << i + 1 << "\n";
        x.push_back(static_cast<float>(i)), y.push_back(static_cast<uint8_t>(i % 3));
    }
    test::write_bytes((d / "x.npy").string(), test::npy_bytes("<f4", "(10, 1)", raw(x)));
    test::write_bytes((d / "y.npy").string(), test::npy_bytes("|u1", "(10,)", raw(y)));
}

// Each source's call on those files, before its split arguments.
const std::vector<std::pair<std::string, std::string>> kSources = {
    {"idx", "idx(\"im\", \"lb\""},
    {"csv", "csv(\"t.csv\", label = \"label\""},
    {"sequences", "sequences(\"s.txt\", max_len = 1"},
    {"npy", "npy(\"x.npy\", \"y.npy\""},
};

class Reader : public SourceReader {
  public:
    explicit Reader(std::string file) : file_(std::move(file)) {}
    std::string path(const std::string& written) const override { return resolve_data_path(written, file_); }
    rt::LabeledRows features(const std::string&, const Value&) override { throw std::logic_error("no features here"); }

  private:
    std::string file_;
};

// The positions member `call + args)` yields, its labels checked against them.
std::vector<int64_t> order(const fs::path& d, const std::string& source, const std::string& call, const std::string& args) {
    auto c = test::compile("dataset d {\n    m = " + call + args + ")\n}\n");
    test::require_ok(*c);
    Reader r((d / "x.cnn").string());
    const Dataset& ds = *c->program.dataset("d");
    const DatasetMember& m = *ds.member("m");
    rt::LabeledRows rows = read_source(*m.source, {m.args, "d.m", ds.labels, ds.classes, r});
    std::vector<int64_t> got;
    for (int64_t i = 0; i < rows.x.size(); ++i) {
        got.push_back(static_cast<int64_t>(rows.x[i]) - (source == "sequences" ? 1 : 0));
        CHECK(rows.labels[static_cast<size_t>(i)] == got.back() % 3);
    }
    return got;
}

}  // namespace

TEST_CASE("every array source: validation_split is the last fraction in file order unless shuffled", "[data][split]") {
    TempDir dir;
    write_files(dir.path());
    for (const auto& [source, call] : kSources) {
        INFO(source);
        // int(0.3 * 10) = 3 validation samples: the last three, with no seed or with shuffle = false.
        for (std::string how : {"", ", shuffle = false", ", shuffle = false, seed = 5"}) {
            INFO(how);
            CHECK(order(dir.path(), source, call, how + ", validation_split = 0.3, subset = training") == iota(0, 7));
            CHECK(order(dir.path(), source, call, how + ", validation_split = 0.3, subset = validation") == iota(7, 10));
        }
        CHECK(order(dir.path(), source, call, "") == iota(0, 10));  // nothing asked: file order
    }
}

TEST_CASE("every array source: seed and shuffle = true shuffle the samples before the split", "[data][split][shuffle]") {
    TempDir dir;
    write_files(dir.path());
    REQUIRE(shuffled(5) != iota(0, 10));
    REQUIRE(shuffled(5) != shuffled(6));
    for (const auto& [source, call] : kSources) {
        INFO(source);
        const auto five = shuffled(5);
        CHECK(order(dir.path(), source, call, ", seed = 5, validation_split = 0.3, subset = training") == part(five, 0, 7));
        CHECK(order(dir.path(), source, call, ", seed = 5, validation_split = 0.3, subset = validation") == part(five, 7, 10));
        CHECK(order(dir.path(), source, call, ", shuffle = true, seed = 6, validation_split = 0.3, subset = validation") ==
              part(shuffled(6), 7, 10));
        CHECK(order(dir.path(), source, call, ", seed = 5") == five);                                  // no split: all, shuffled
        CHECK(order(dir.path(), source, call, ", shuffle = true") == shuffled(1337));                 // Keras draws one; cnnc 1337
        CHECK(order(dir.path(), source, call, ", shuffle = true, validation_split = 0.3, subset = validation") ==
              part(shuffled(1337), 7, 10));
    }
}

TEST_CASE("keyed npy arrays take the same split and shuffle as a single array", "[data][split][engine]") {
    TempDir dir;
    fs::path d(dir.path());
    write_files(d);
    auto keyed = [&](const std::string& args) {
        auto c = test::compile("model m {\n    input v(1)\n    Dense(1) as out\n    output out\n}\n"
                               "dataset d {\n    m = npy(x = {v = \"x.npy\"}, y = {out = \"y.npy\"}" + args +
                               ")\n}\ntrain m on d.m {\n    loss = mse\n}\n");
        test::require_ok(*c);
        const Program& p = c->program;
        engine::Arrays a = engine::load_arrays(*p.model("m"), *p.dataset("d")->member("m"), p.trains.front().outputs,
                                               [&](const std::string& f) { return (d / f).string(); }, 1.f);
        std::vector<int64_t> got;
        for (int64_t i = 0; i < a.x[0].size(); ++i) {
            got.push_back(static_cast<int64_t>(a.x[0][i]));
            CHECK(a.y[0][i] == static_cast<float>(got.back() % 3));  // the targets follow their samples
        }
        return got;
    };
    CHECK(keyed(", validation_split = 0.3, subset = validation") == iota(7, 10));
    CHECK(keyed(", seed = 5, validation_split = 0.3, subset = training") == part(shuffled(5), 0, 7));
    CHECK(keyed(", seed = 5") == shuffled(5));
    CHECK(keyed("") == iota(0, 10));
}
