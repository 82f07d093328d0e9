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

TEST_CASE("streamed and preloaded training give identical losses, with augmentation; the cached runs agree with each other",
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
