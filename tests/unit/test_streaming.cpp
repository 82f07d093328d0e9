// The streamed image folder (data/ImageStream.h) and its caches (data/ImageCache.h) on real JPEG and
// PNG files the test writes: the same floats as the preloaded folder, batch for batch; the same
// training losses streamed and preloaded, with augmentation too; a disk cache reused, invalidated
// and never read half-written.
#include <stb/stb_image_write.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "EngineHelpers.h"
#include "Error.h"
#include "TempDir.h"
#include "TestData.h"
#include "data/ImageCache.h"
#include "data/ImageFolder.h"
#include "data/ImageStream.h"
#include "data/Idx.h"
#include "data/Npy.h"
#include "data/Records.h"
#include "data/Table.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

// A two-class folder of noisy pictures at sizes that need resizing: JPEG, and every third a PNG.
void make_folder(const fs::path& dir, int per_class, uint64_t seed) {
    rt::Rng rng(seed);
    for (int c = 0; c < 2; ++c)
        for (int i = 0; i < per_class; ++i) {
            const int w = 30 + static_cast<int>(rng.below(20)), h = 24 + static_cast<int>(rng.below(20));
            std::vector<unsigned char> px(static_cast<size_t>(w * h * 3));
            for (size_t k = 0; k < px.size(); ++k)
                px[k] = static_cast<unsigned char>(c == 0 ? rng.below(128) : 100 + rng.below(156));
            fs::path p = dir / (c == 0 ? "cats" : "dogs") / ("img" + std::to_string(i) + (i % 3 == 0 ? ".png" : ".jpg"));
            fs::create_directories(p.parent_path());
            if (i % 3 == 0) stbi_write_png(p.string().c_str(), w, h, 3, px.data(), w * 3);
            else stbi_write_jpg(p.string().c_str(), w, h, 3, px.data(), 85);
        }
}

rt::ImageFolderOptions small() {
    rt::ImageFolderOptions o;
    o.height = 12, o.width = 10;
    return o;
}

// The stream's batches for `batches` (planned, then fetched in order) as one tensor per batch.
std::vector<rt::Tensor> fetch_all(rt::ImageStream& s, const std::vector<std::vector<int64_t>>& batches) {
    s.plan(batches);
    std::vector<rt::Tensor> out;
    for (const auto& ids : batches) {
        rt::Batch b;
        s.fetch(ids, b);
        REQUIRE(b.size == static_cast<int64_t>(ids.size()));
        out.push_back(b.x.at(0));
    }
    return out;
}

rt::Tensor labels_tensor(const std::vector<int32_t>& labels) {
    rt::Tensor y({static_cast<int64_t>(labels.size()), 1});
    for (size_t i = 0; i < labels.size(); ++i) y[static_cast<int64_t>(i)] = static_cast<float>(labels[i]);
    return y;
}

}  // namespace

TEST_CASE("a streamed image folder gives the preloaded floats, planned or not, over several epochs", "[data][stream]") {
    TempDir dir;
    make_folder(fs::path(dir.path()) / "f", 7, 3);
    const rt::ImageFolderOptions o = small();
    rt::LabeledRows pre = rt::load_image_folder(dir.path() + "/f", o);
    rt::ImageFiles files = rt::list_image_folder(dir.path() + "/f");
    REQUIRE(files.paths.size() == 14);
    const int64_t px = o.height * o.width * o.channels;
    rt::StreamOptions so;
    so.depth = 2, so.rescale = 0.5f;
    rt::ImageStream s(files.paths, labels_tensor(files.labels), o, so, nullptr);
    const std::vector<std::vector<int64_t>> epoch = {{13, 0, 5, 2}, {7, 8, 1, 12}, {3, 4, 6, 9}, {10, 11}};
    for (int e = 0; e < 3; ++e) {
        auto got = fetch_all(s, epoch);
        for (size_t b = 0; b < epoch.size(); ++b)
            for (size_t i = 0; i < epoch[b].size(); ++i)
                for (int64_t k = 0; k < px; ++k)
                    REQUIRE(got[b][static_cast<int64_t>(i) * px + k] == pre.x[epoch[b][i] * px + k] * 0.5f);
    }
    // Ids off the plan are decoded on the spot; a new plan drops what was decoded for the old one.
    s.plan(epoch);
    rt::Batch b;
    s.fetch({4, 4}, b);
    CHECK(b.x[0][px] == pre.x[4 * px] * 0.5f);
    CHECK(b.y[0][1] == static_cast<float>(files.labels[4]));
    auto again = fetch_all(s, {{1}, {2, 3}});
    CHECK(again[1][px] == pre.x[3 * px] * 0.5f);
}

TEST_CASE("a memory cache holds the resized pixels rounded to bytes, in every epoch", "[data][stream][cache]") {
    TempDir dir;
    make_folder(fs::path(dir.path()) / "f", 4, 5);
    const rt::ImageFolderOptions o = small();
    rt::LabeledRows pre = rt::load_image_folder(dir.path() + "/f", o);
    rt::ImageFiles files = rt::list_image_folder(dir.path() + "/f");
    const int64_t n = static_cast<int64_t>(files.paths.size()), px = o.height * o.width * o.channels;
    rt::ImageStream s(files.paths, labels_tensor(files.labels), o, {}, std::make_shared<rt::MemoryImageCache>(n, px));
    const std::vector<std::vector<int64_t>> epoch = {{0, 1, 2}, {3, 4, 5}, {6, 7}};
    auto first = fetch_all(s, epoch), second = fetch_all(s, epoch);
    for (size_t b = 0; b < epoch.size(); ++b)
        for (size_t i = 0; i < epoch[b].size(); ++i)
            for (int64_t k = 0; k < px; ++k) {
                const float want = std::round(std::min(255.f, std::max(0.f, pre.x[epoch[b][i] * px + k])));
                REQUIRE(first[b][static_cast<int64_t>(i) * px + k] == want);
                REQUIRE(second[b][static_cast<int64_t>(i) * px + k] == want);
            }
}

TEST_CASE("a disk cache is reused when unchanged, rebuilt after a file changes or when cut short, never read half-written",
          "[data][stream][cache]") {
    TempDir dir;
    make_folder(fs::path(dir.path()) / "f", 3, 7);
    const rt::ImageFolderOptions o = small();
    rt::ImageFiles files = rt::list_image_folder(dir.path() + "/f");
    const int64_t n = static_cast<int64_t>(files.paths.size()), px = o.height * o.width * o.channels;
    const std::string path = dir.path() + "/cache/pets.bin";
    std::vector<uint8_t> a(static_cast<size_t>(px)), b(static_cast<size_t>(px));
    auto image = [&](int64_t id) {
        std::vector<uint8_t> v(static_cast<size_t>(px));
        for (int64_t k = 0; k < px; ++k) v[static_cast<size_t>(k)] = static_cast<uint8_t>((id * 31 + k) % 251);
        return v;
    };
    {  // interrupted: half the images written, then the run ends
        rt::DiskImageCache c(path, files.paths, o);
        CHECK_FALSE(c.reused());
        for (int64_t id = 0; id < n / 2; ++id) c.put(id, image(id).data());
    }
    CHECK_FALSE(fs::exists(path));
    CHECK(fs::directory_iterator(dir.path() + "/cache") == fs::directory_iterator());  // no temporary file left
    {
        rt::DiskImageCache c(path, files.paths, o);
        CHECK_FALSE(c.reused());
        CHECK_FALSE(c.get(0, a.data()));
        for (int64_t id = 0; id < n; ++id) c.put(id, image(id).data());
        REQUIRE(fs::exists(path));
        CHECK(c.get(n - 1, a.data()));
        CHECK(a == image(n - 1));
    }
    {
        rt::DiskImageCache c(path, files.paths, o);
        CHECK(c.reused());
        CHECK(c.get(2, a.data()));
        CHECK(a == image(2));
    }
    rt::ImageFolderOptions other = o;
    other.interpolation = rt::Interpolation::nearest;
    CHECK_FALSE(rt::DiskImageCache(path, files.paths, other).reused());  // other decode options
    // A file rewritten (a new size and mtime) invalidates the cache.
    const uint64_t key = rt::image_cache_key(files.paths, o);
    fs::last_write_time(files.paths[1], fs::last_write_time(files.paths[1]) - std::chrono::hours(1));
    CHECK(rt::image_cache_key(files.paths, o) != key);
    CHECK_FALSE(rt::DiskImageCache(path, files.paths, o).reused());
    {  // rebuilt for the new key, then cut short on disk: ignored and rebuilt again
        rt::DiskImageCache c(path, files.paths, o);
        for (int64_t id = 0; id < n; ++id) c.put(id, image(id).data());
    }
    CHECK(rt::DiskImageCache(path, files.paths, o).reused());
    fs::resize_file(path, fs::file_size(path) - 9);
    CHECK_FALSE(rt::DiskImageCache(path, files.paths, o).reused());
}

TEST_CASE("Keras' split rules: the last fraction in order (fit's rule), or after a seeded shuffle", "[data][split]") {
    // fit(validation_split = 0.25) on 10 samples: int(0.25 * 10) = 2 validation samples, the last two.
    CHECK(rt::subset_order(10, 0.25, true, 1, false) == std::vector<int64_t>{8, 9});
    CHECK(rt::subset_order(10, 0.25, false, 1, false) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
    // Shuffled: the two subsets partition the samples, and the seed decides the split.
    auto tr = rt::subset_order(10, 0.3, false, 4, true), va = rt::subset_order(10, 0.3, true, 4, true);
    CHECK(tr.size() == 7);
    CHECK(va.size() == 3);
    std::vector<int64_t> all = tr;
    all.insert(all.end(), va.begin(), va.end());
    std::sort(all.begin(), all.end());
    CHECK(all == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("the progress line says how much of the epoch waited for data, from 1% up", "[progress][stream]") {
    const rt::Metrics m = {{"loss", 0.5}};
    CHECK(rt::progress_line(10, 10, 4.0, m, 0.123) == "10/10 [==============================] - 4s 400ms/step - data 12% - loss: 0.5000");
    CHECK(rt::progress_line(10, 10, 4.0, m, 0.005) == "10/10 [==============================] - 4s 400ms/step - loss: 0.5000");
    CHECK(rt::progress_line(10, 10, 4.0, m) == rt::progress_line(10, 10, 4.0, m, 0.005));
    CHECK(rt::progress_line(5, 10, 2.0, {}, 0.5) == " 5/10 [==============>...............] - ETA: 2s - data 50%");
}

namespace {

// `columns` of a history CSV: its header and its rows, those columns only.
std::vector<std::string> history_columns(const std::string& csv_path, const std::vector<std::string>& columns) {
    std::ifstream in(csv_path);
    std::vector<std::vector<std::string>> rows;
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> cells;
        std::stringstream ss(line);
        for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
        rows.push_back(cells);
    }
    std::vector<std::string> out;
    if (rows.empty()) return out;
    for (const auto& row : rows) {
        std::string kept;
        for (const std::string& c : columns) {
            auto at = std::find(rows[0].begin(), rows[0].end(), c);
            kept += (at == rows[0].end() ? "?" : row.at(size_t(at - rows[0].begin()))) + ";";
        }
        out.push_back(kept);
    }
    return out;
}

// The pets model of test_image_folder with RandomFlip, RandomRotation and RandomZoom, its
// members read with `cache` (an argument of image_directory, MEMBER replaced by the member's name;
// "" for the default).
std::string pets_file(const std::string& cache) {
    auto arg_for = [&](const std::string& member) {
        std::string a = cache;
        if (a.find("MEMBER") != std::string::npos) a.replace(a.find("MEMBER"), 6, member);
        return cache.empty() ? "" : ", cache = " + a;
    };
    const std::string arg = arg_for("train"), val_arg = arg_for("validation");
    return R"(
dataset pets {
    train      = image_directory("pets", image_size = (20, 20), validation_split = 0.25, subset = training, seed = 3)" + arg + R"()
    validation = image_directory("pets", image_size = (20, 20), validation_split = 0.25, subset = validation, seed = 3)" + val_arg + R"()
    labels     = binary
}
augmentation flip_rotate_zoom {
    RandomFlip(horizontal)
    RandomRotation(0.1)
    RandomZoom(0.2)
}
model pets_net {
    input(20, 20, 3)
    flip_rotate_zoom
    Rescaling(1/255)
    Conv2D(4, 3, activation = relu)
    MaxPooling2D(2)
    Flatten()
    Dense(1, activation = sigmoid)
}
train pets_net on pets.train {
    validation = pets.validation
    optimizer  = adam()
    loss       = binary_crossentropy
    metrics    = [accuracy]
    epochs     = 3
    batch_size = 5
}
)";
}

}  // namespace

TEST_CASE("streamed and preloaded training give identical losses, with augmentation, the cached runs agree with each other",
          "[run][stream][augmentation]") {
    TempDir dir;
    fs::path d(dir.path());
    make_folder(d / "pets", 12, 11);
    const std::vector<std::string> cols = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"};
    auto run = [&](const std::string& name, const std::string& cache) {
        std::ofstream(d / (name + ".cnn")) << pets_file(cache);
        auto r = run_cnnc("run " + name + ".cnn --seed 4 --output-dir out_" + name, d.string());
        INFO(r.output);
        REQUIRE(r.status == 0);
        return std::make_pair(r.output, history_columns((d / ("out_" + name) / "pets_net_history.csv").string(), cols));
    };
    auto pre = run("preloaded", "");
    auto none = run("streamed", "none");
    CHECK_THAT(pre.first, Catch::Contains("18 samples"));
    REQUIRE(pre.second.size() == 4);  // the header and 3 epochs
    CHECK(none.second == pre.second);
    // The preloaded run's history has no data_wait column; the streamed one's has.
    CHECK(history_columns((d / "out_preloaded" / "pets_net_history.csv").string(), {"data_wait"})[0] == "?;");
    CHECK(history_columns((d / "out_streamed" / "pets_net_history.csv").string(), {"data_wait"})[0] == "data_wait;");

    auto memory = run("memory", "memory");
    auto disk = run("disk", "\"cache/MEMBER.bin\"");
    CHECK(memory.second == disk.second);
    CHECK(fs::exists(d / "cache" / "train.bin"));
    CHECK(fs::exists(d / "cache" / "validation.bin"));
    CHECK_THAT(disk.first, Catch::Contains("pets.train: image cache cache/train.bin (writing)"));
    auto again = run("disk", "\"cache/MEMBER.bin\"");
    CHECK_THAT(again.first, Catch::Contains("pets.train: image cache cache/train.bin (reused)"));
    CHECK(again.second == disk.second);
}

// Records read at random (data/Records.h): npy and plain idx samples streamed from their files.
namespace {

template <class T>
std::string raw_bytes(const std::vector<T>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// A model of 4x3 samples and 3 classes, trained on member d.train (validated on d.validation) of
// x.npy / y.npy or of the IDX pair im / lb; MEMBER_ARGS goes into each member's call.
std::string records_file(const std::string& source, const std::string& args) {
    const std::string call = source == "npy" ? "npy(\"x.npy\", \"y.npy\"" : "idx(\"im\", \"lb\"";
    return "dataset d {\n    train = " + call + ", validation_split = 0.25, subset = training, seed = 2" + args +
           ")\n    validation = " + call + ", validation_split = 0.25, subset = validation, seed = 2" + args +
           R"()
    labels = one_hot(3)
    rescale = 1/255
}
model m {
    input(4, 3, 1)
    Flatten()
    Dense(5, activation = relu)
    Dense(3, activation = softmax)
}
train m on d.train {
    validation = d.validation
    optimizer = adam(learning_rate = 0.01)
    loss = categorical_crossentropy
    metrics = [accuracy]
    epochs = 3
    batch_size = 4
}
evaluate m on d.validation
)";
}

// 24 samples of 4x3 values whose class is the sign pattern of two of them, in .npy (float64 x,
// int64 y: both converted) and IDX files.
void write_records(const fs::path& d) {
    rt::Rng rng(5);
    std::vector<double> x;
    std::vector<int64_t> y;
    std::vector<unsigned char> px;
    for (int i = 0; i < 24; ++i) {
        for (int k = 0; k < 12; ++k) px.push_back(static_cast<unsigned char>(rng.below(256))), x.push_back(px.back());
        y.push_back((px[px.size() - 12] > 127) + (px[px.size() - 1] > 127));
    }
    write_bytes((d / "x.npy").string(), npy_bytes("<f8", "(24, 4, 3)", raw_bytes(x)));
    write_bytes((d / "y.npy").string(), npy_bytes("<i8", "(24,)", raw_bytes(y)));
    write_idx(d / "im", d / "lb", 24, 4, 3, [&](int i, int r, int c) { return px[static_cast<size_t>(i * 12 + r * 3 + c)]; },
              [&](int i) { return static_cast<int>(y[static_cast<size_t>(i)]); });
}

}  // namespace

TEST_CASE("a record stream gives the preloaded floats of each sample asked for, npy dtypes and plain idx", "[data][stream][records]") {
    TempDir dir;
    fs::path d(dir.path());
    write_records(d);
    // |u1 and <f4 too: every converter against load_npy's.
    std::vector<uint8_t> u(24 * 12);
    std::vector<float> f(24 * 12);
    for (size_t i = 0; i < u.size(); ++i) u[i] = static_cast<uint8_t>(i * 7), f[i] = static_cast<float>(i) / 3.f - 20.f;
    write_bytes((d / "u.npy").string(), npy_bytes("|u1", "(24, 4, 3)", raw_bytes(u)));
    write_bytes((d / "f.npy").string(), npy_bytes("<f4", "(24, 4, 3)", raw_bytes(f)));
    const std::vector<int64_t> records = {23, 0, 5, 5, 17};  // the member's samples: any records, repeats too
    const std::vector<int64_t> ids = {4, 0, 2};
    for (const std::string& file : {"x.npy", "u.npy", "f.npy", "im"}) {
        INFO(file);
        const bool idx = file == "im";
        rt::RecordLayout layout = idx ? rt::idx_records((d / file).string()) : rt::npy_records((d / file).string());
        rt::Tensor whole = idx ? rt::load_idx((d / "im").string(), (d / "lb").string()).images
                               : rt::load_npy((d / file).string(), (d / "y.npy").string()).x;
        REQUIRE(layout.count == 24);
        CHECK(layout.sample == rt::Dims(whole.shape().begin() + 1, whole.shape().end()));
        rt::Tensor y({5, 1});
        for (int64_t i = 0; i < 5; ++i) y[i] = static_cast<float>(i);
        rt::RecordStream s(layout, records, y, 0.5f);
        rt::Batch b;
        s.plan({ids});
        s.fetch(ids, b);  // planned
        rt::Batch again;
        s.fetch({1, 3}, again);  // unplanned
        REQUIRE(b.x[0].size() == 3 * 12);
        for (size_t i = 0; i < ids.size(); ++i) {
            CHECK(b.y[0][static_cast<int64_t>(i)] == static_cast<float>(ids[i]));
            for (int64_t k = 0; k < 12; ++k)
                CHECK(b.x[0][static_cast<int64_t>(i) * 12 + k] == whole[records[static_cast<size_t>(ids[i])] * 12 + k] * 0.5f);
        }
        for (int64_t k = 0; k < 12; ++k) CHECK(again.x[0][12 + k] == whole[5 * 12 + k] * 0.5f);
    }
    {  // A process reads only the samples it is handed (an MPI rank its shard): the others may be gone.
        rt::RecordLayout l = rt::npy_records((d / "x.npy").string());
        std::vector<int64_t> all(24);
        for (int64_t i = 0; i < 24; ++i) all[static_cast<size_t>(i)] = i;
        rt::RecordStream s(l, all, rt::Tensor({24, 1}), 1.f);
        fs::resize_file(d / "x.npy", l.offset + 12 * 12 * sizeof(double));  // records 0..11 of 12 float64 values stay
        rt::Batch b;
        s.plan({{11, 0, 5}});
        CHECK_NOTHROW(s.fetch({11, 0, 5}, b));
        CHECK_THROWS_WITH(s.fetch({12}, b), Catch::Contains("x.npy: cannot read sample 12"));
    }
    std::string plain = read_bytes((d / "im").string());
    write_gz((d / "im.gz").string(), plain);
    fs::remove(d / "im");
    CHECK_THAT(rt::idx_records((d / "im").string()).unseekable, Catch::Contains("a gzipped IDX file cannot be read at random"));
}

TEST_CASE("npy and idx members streamed with cache = none train to the preloaded losses", "[run][stream][records]") {
    TempDir dir;
    fs::path d(dir.path());
    write_records(d);
    const std::vector<std::string> cols = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"};
    for (const std::string source : {"npy", "idx"}) {
        INFO(source);
        auto run = [&](const std::string& name, const std::string& args) {
            std::ofstream(d / (name + ".cnn")) << records_file(source, args);
            auto r = run_cnnc("run " + name + ".cnn --seed 4 --output-dir out_" + name, d.string());
            INFO(r.output);
            REQUIRE(r.status == 0);
            return std::make_pair(r.output, history_columns((d / ("out_" + name) / "m_history.csv").string(), cols));
        };
        auto pre = run(source + "_pre", "");
        auto memory = run(source + "_memory", ", cache = memory");
        auto none = run(source + "_none", ", cache = none");
        CHECK_THAT(none.first, Catch::Contains("d.train: read from "));
        CHECK_THAT(none.first, Catch::Contains("as training goes, 18 samples"));
        CHECK_THAT(pre.first, !Catch::Contains("as training goes"));
        REQUIRE(pre.second.size() == 4);  // the header and 3 epochs
        CHECK(none.second == pre.second);
        CHECK(memory.second == pre.second);
        const std::string eval = "m on d.validation";
        CHECK(metric_on_line(none.first, eval, "loss") == metric_on_line(pre.first, eval, "loss"));
    }
    // A gzipped IDX file cannot be read at random: streaming it is a located error; read whole, it trains.
    write_gz((d / "im.gz").string(), read_bytes((d / "im").string()));
    fs::remove(d / "im");
    std::ofstream(d / "gz.cnn") << records_file("idx", ", cache = none");
    auto r = run_cnnc("run gz.cnn", d.string());
    CHECK(r.status != 0);
    CHECK_THAT(r.output, Catch::Contains("gz.cnn:2:13: error: "));
    CHECK_THAT(r.output, Catch::Contains("im.gz: a gzipped IDX file cannot be read at random; gunzip it to stream it"));
    std::ofstream(d / "gz_whole.cnn") << records_file("idx", "");
    CHECK(run_cnnc("run gz_whole.cnn --epochs 1", d.string()).status == 0);
    std::ofstream(d / "bad.cnn") << records_file("npy", ", cache = \"c.bin\"");
    auto bad = run_cnnc("run bad.cnn", d.string());
    CHECK(bad.status != 0);
    CHECK_THAT(bad.output, Catch::Contains("d.train: cache must be none or memory"));
}

TEST_CASE("an npy member whose floats exceed the memory the process may use trains from its file", "[run][stream][records]") {
#ifdef __SANITIZE_ADDRESS__
    skip("ASan reserves terabytes of address space for its shadow memory, so cnnc cannot start under `ulimit -v`");
#endif
    TempDir dir;
    fs::path d(dir.path());
    // 2,400 samples of 125,000 bytes: a 300 MB file, 1.2 GB as floats, under a 1 GB address-space
    // limit (so a preload bound of 256 MB). Sample i's first value says its class.
    const int n = 2400, per = 125000;
    {
        std::ofstream x(d / "x.npy", std::ios::binary);
        x << npy_bytes("|u1", "(2400, 125000)", "");
        std::string row(per, '\0');
        for (int i = 0; i < n; ++i) row[0] = static_cast<char>(i % 2 ? 255 : 0), x.write(row.data(), per);
        std::vector<uint8_t> y(n);
        for (int i = 0; i < n; ++i) y[static_cast<size_t>(i)] = static_cast<uint8_t>(i % 2);
        write_bytes((d / "y.npy").string(), npy_bytes("|u1", "(2400,)", raw_bytes(y)));
    }
    auto file = [](const std::string& args) {
        return "dataset d {\n    train = npy(\"x.npy\", \"y.npy\"" + args +
               ")\n    labels = binary\n    rescale = 1/255\n}\nmodel m {\n    input(125000)\n    Dense(1, activation = sigmoid)\n}\n"
               "train m on d.train {\n    loss = binary_crossentropy\n    batch_size = 100\n}\n";
    };
    std::ofstream(d / "big.cnn") << file("");
    CommandResult r = run_shell("cd '" + dir.path() + "' && ulimit -v 1000000 && " + CNNC_BINARY + " run big.cnn");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("d.train: read from x.npy as training goes, 2400 samples"));
    CHECK_THAT(r.output, Catch::Contains("24/24 ["));
    std::ofstream(d / "whole.cnn") << file(", cache = memory");  // read whole, it cannot fit
    CommandResult whole = run_shell("cd '" + dir.path() + "' && ulimit -v 1000000 && " + CNNC_BINARY + " run whole.cnn");
    CHECK(whole.status == 1);
    CHECK_THAT(whole.output, Catch::Contains("x.npy: samples of shape (2400, 125000) need 1.20 GB of memory"));
}
