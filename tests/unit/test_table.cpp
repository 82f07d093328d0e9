// CSV and token-sequence loaders on files the test writes, the seeded split, and the seed's
// telemetry (Conv1D) and IMDB-style (Embedding + Conv1D) models trained end to end on such data.
#include <filesystem>
#include <fstream>

#include "EngineHelpers.h"
#include "Error.h"
#include "TempDir.h"
#include "TestData.h"
#include "data/Table.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {
void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const rt::UserError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("load_csv: header, label by name or index, reshape", "[data][csv]") {
    TempDir dir;
    fs::path p = fs::path(dir.path()) / "t.csv";
    write(p, "a,b,label,c\n1,2,0,3\n4.5,-5,1,6e1\n");
    rt::CsvOptions o;
    o.label_name = "label";
    auto r = rt::load_csv(p.string(), o);
    CHECK(r.x.shape() == rt::Dims{2, 3});
    CHECK(r.labels == std::vector<int32_t>{0, 1});
    CHECK(std::vector<float>(r.x.data(), r.x.data() + 6) == std::vector<float>{1, 2, 3, 4.5f, -5, 60});
    rt::CsvOptions byindex;
    byindex.label_index = 2;
    byindex.shape = {3, 1};
    auto q = rt::load_csv(p.string(), byindex);
    CHECK(q.x.shape() == rt::Dims{2, 3, 1});
    CHECK(q.labels == r.labels);
    write(p, "1,2,1\n3,4,0\n");  // no header, label last by default
    rt::CsvOptions last;
    last.header = false;
    auto s = rt::load_csv(p.string(), last);
    CHECK(s.labels == std::vector<int32_t>{1, 0});
    CHECK(s.x[3] == 4);
}

TEST_CASE("load_csv errors name the file, the line and the column", "[data][csv]") {
    TempDir dir;
    fs::path p = fs::path(dir.path()) / "bad.csv";
    rt::CsvOptions o;
    o.label_name = "label";
    write(p, "x,label\n1,0\n2\n");
    CHECK_THAT(error_of([&] { rt::load_csv(p.string(), o); }), Catch::Contains("bad.csv:3: 1 columns, expected 2"));
    write(p, "x,label\n1,0\nfoo,1\n");
    CHECK_THAT(error_of([&] { rt::load_csv(p.string(), o); }), Catch::Contains("bad.csv:3: column 1: 'foo' is not a decimal number"));
    write(p, "x,y\n1,0\n");
    CHECK_THAT(error_of([&] { rt::load_csv(p.string(), o); }), Catch::Contains("no column named 'label'"));
    write(p, "x,label\n1,0.5\n");
    CHECK_THAT(error_of([&] { rt::load_csv(p.string(), o); }), Catch::Contains("non-negative integer"));
    CHECK_THAT(error_of([&] { rt::load_csv((fs::path(dir.path()) / "none.csv").string(), o); }), Catch::Contains("none.csv: cannot open"));
}

TEST_CASE("load_sequences pads and truncates like Keras' pad_sequences", "[data][sequences]") {
    TempDir dir;
    fs::path p = fs::path(dir.path()) / "s.txt";
    write(p, "1 5 6 7 8\n0 9\n");
    rt::SequenceOptions o;
    o.max_len = 3;
    auto pre = rt::load_sequences(p.string(), o);  // 'pre': keep the last 3, zeros first
    CHECK(pre.labels == std::vector<int32_t>{1, 0});
    CHECK(std::vector<float>(pre.x.data(), pre.x.data() + 6) == std::vector<float>{6, 7, 8, 0, 0, 9});
    o.pad_post = o.truncate_post = true;
    o.max_features = 8;  // 8 and 9 are out of vocabulary: Keras' oov_char 2
    auto post = rt::load_sequences(p.string(), o);
    CHECK(std::vector<float>(post.x.data(), post.x.data() + 6) == std::vector<float>{5, 6, 7, 2, 0, 0});
}

TEST_CASE("the seeded split: disjoint, complete, the same every time", "[data]") {
    rt::LabeledRows all;
    all.x = rt::Tensor({10, 1});
    for (int i = 0; i < 10; ++i) all.x[i] = static_cast<float>(i), all.labels.push_back(i);
    auto tr = rt::take_subset(all, 0.3, false, 5), va = rt::take_subset(all, 0.3, true, 5);
    CHECK(tr.labels.size() == 7);
    CHECK(va.labels.size() == 3);
    std::vector<int32_t> both = tr.labels;
    both.insert(both.end(), va.labels.begin(), va.labels.end());
    std::sort(both.begin(), both.end());
    CHECK(both == std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(rt::take_subset(all, 0.3, true, 5).labels == va.labels);
    CHECK(rt::take_subset(all, 0.3, true, 6).labels != va.labels);
}

TEST_CASE("the seed's telemetry Conv1D model trains on a CSV it can learn", "[run][csv][seed]") {
    TempDir dir;
    fs::path d(dir.path());
    rt::Rng rng(4);
    std::string csv = "f1,f2,f3,f4,f5,f6,f7,f8,f9,label\n";
    for (int i = 0; i < 800; ++i) {
        int label = i % 2;  // a fault shows as a spike in readings 3..5
        for (int f = 0; f < 9; ++f) {
            double v = rng.uniform(-1, 1) + (label && f >= 3 && f <= 5 ? 2.5 : 0);
            csv += fmt::format("{:.4f},", v);
        }
        csv += std::to_string(label) + "\n";
    }
    write(d / "data" / "telemetry.csv", csv);
    fs::copy_file(root() + "/models/telemetry_conv1d.cnn", d / "telemetry_conv1d.cnn");
    auto r = run_cnnc("run telemetry_conv1d.cnn --epochs 4", d.string());
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains(" - val_acc: "));
    CHECK(metric_on_line(r.output, "telemetry_cnn on telemetry.test: ", "acc") >= 0.9);
}

TEST_CASE("the seed's IMDB-style Embedding + Conv1D model trains on token sequences", "[run][sequences][seed]") {
    TempDir dir;
    fs::path d(dir.path());
    rt::Rng rng(8);
    auto make = [&](int n) {
        std::string s;
        for (int i = 0; i < n; ++i) {
            int label = i % 2;  // positive reviews say "great" (token 7) every few words
            s += std::to_string(label);
            int len = 20 + static_cast<int>(rng.below(40));
            for (int t = 0; t < len; ++t) s += " " + std::to_string(label && t % 4 == 0 ? 7 : 10 + static_cast<int>(rng.below(300)));
            s += "\n";
        }
        return s;
    };
    write(d / "data" / "imdb" / "train.txt", make(512));
    write(d / "data" / "imdb" / "test.txt", make(128));
    fs::copy_file(root() + "/models/imdb_conv1d.cnn", d / "imdb_conv1d.cnn");
    auto r = run_cnnc("run imdb_conv1d.cnn --epochs 6", d.string());
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK(metric_on_line(r.output, "imdb_cnn on imdb.test: ", "acc") >= 0.8);
}
