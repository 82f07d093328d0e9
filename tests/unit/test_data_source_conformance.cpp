// Every data source of the list reads real files through its own record, as `cnnc run` does
// (read_source: the record's `load`, then Keras' split arguments): each has a fixture below that
// writes small files of its format and knows the values they hold, and at least one damaged file
// whose error must name it. A source added to the list without a fixture fails the first test case.
#include <stb/stb_image_write.h>

#include <filesystem>
#include <map>
#include <set>

#include "EngineHelpers.h"
#include "Error.h"
#include "TempDir.h"
#include "TestData.h"
#include "engine/Features.h"
#include "frontend/DataPaths.h"

using namespace cnnc;
using test::TempDir;
namespace fs = std::filesystem;

namespace {

// A file in `dir` with a dataset `d` whose member `train` is the source under test (and any
// declarations it needs); `check` reads what the member yields.
struct Case {
    std::string name;
    std::function<std::string(const TempDir& dir)> write;  // writes the files; returns the .cnn text
    std::function<void(const rt::LabeledRows&)> check;
};
// A damaged file: the error must contain `says` ({dir}: the temp directory), which names the file
// first, and its line where the format has lines.
struct BadCase {
    std::string name;
    std::function<std::string(const TempDir& dir)> write;
    std::string says;
};
struct Fixture {
    std::vector<Case> good;
    std::vector<BadCase> bad;
};

// What the run gives a record's `load`: paths resolved as the checker resolved them, and
// features(model, data) computed as `cnnc run` does (the member read through its own record, then
// run through the model's network in inference).
class Reader : public SourceReader {
  public:
    Reader(const Program& p, std::string model_file) : prog_(p), file_(std::move(model_file)) {}
    std::string path(const std::string& written) const override { return resolve_data_path(written, file_); }
    rt::LabeledRows features(const std::string& model, const Value& data) override {
        const std::string& ref = data.s;
        const Model& m = *prog_.model(model);
        rt::LabeledRows in = read(prog_, ref.substr(0, ref.find('.')), ref.substr(ref.find('.') + 1), *this);
        auto net = engine::build_network(m, test::kernel_cache(), 1);
        net->prepare(engine::kFeatureBatch, false);
        return engine::extract_features(m, *net, std::move(in), ref);
    }
    static rt::LabeledRows read(const Program& p, const std::string& dataset, const std::string& member, SourceReader& r) {
        const Dataset& ds = *p.dataset(dataset);
        const DatasetMember& m = *ds.member(member);
        return read_source(*m.source, {m.args, dataset + "." + member, ds.labels, ds.classes, r});
    }

  private:
    const Program& prog_;
    std::string file_;
};

// d.train of the file `text`, as the run reads it.
rt::LabeledRows load_member(const TempDir& dir, const std::string& text) {
    auto c = test::compile(text);
    test::require_ok(*c);
    Reader r(c->program, dir / "test.cnn");
    return Reader::read(c->program, "d", "train", r);
}

std::string dataset(const std::string& call, const std::string& more = "") { return more + "dataset d {\n    train = " + call + "\n}\n"; }
std::string quoted(const std::string& p) { return "\"" + p + "\""; }
// `text` written to dir/name, and the dataset reading it with `source(path<more args>)`.
std::string text_source(const TempDir& dir, const std::string& name, const std::string& text, const std::string& source,
                        const std::string& args) {
    std::ofstream(dir / name) << text;
    return dataset(source + "(" + quoted(dir / name) + args + ")");
}

// Two 2x2 images, a byte 200 among them, labeled 3 and 7.
void write_mnist(const TempDir& dir) {
    test::write_idx(dir / "img", dir / "lbl", 2, 2, 2, [](int i, int y, int x) { return static_cast<unsigned char>(i ? 200 : 10 * (2 * y + x)); },
                    [](int i) { return i ? 7 : 3; });
}
void check_mnist(const rt::LabeledRows& r) {
    REQUIRE(r.x.shape() == rt::Dims{2, 2, 2, 1});
    CHECK(r.x[2] == 20.f);  // image 0, row 1, column 0
    CHECK(r.x[4] == 200.f);  // unscaled: `rescale` is the dataset's, not the reader's
    CHECK(r.labels == std::vector<int32_t>{3, 7});
}
// The image file cut short by one pixel.
std::string truncated_mnist(const TempDir& dir) {
    write_mnist(dir);
    std::string b = test::read_bytes(dir / "img");
    test::write_bytes(dir / "img", b.substr(0, b.size() - 1));
    return "idx(" + quoted(dir / "img") + ", " + quoted(dir / "lbl") + ")";
}
const char* const kTruncatedSays = "{dir}/img: truncated: header promises 8 bytes of pixels, file has 7";

// A 4x4 PNG in ants/ whose pixel (y, x) is 10x + 40y, and a 4x4 JPEG of gray 200 in bees/.
void write_folder(const TempDir& dir) {
    fs::create_directories(dir / "pics/ants"), fs::create_directories(dir / "pics/bees");
    unsigned char png[4 * 4 * 3], jpg[4 * 4 * 3];
    for (int i = 0; i < 16; ++i)
        for (int k = 0; k < 3; ++k) png[i * 3 + k] = static_cast<unsigned char>(10 * (i % 4) + 40 * (i / 4)), jpg[i * 3 + k] = 200;
    REQUIRE(stbi_write_png((dir / "pics/ants/a.png").c_str(), 4, 4, 3, png, 12));
    REQUIRE(stbi_write_jpg((dir / "pics/bees/b.jpg").c_str(), 4, 4, 3, jpg, 95));
}

template <class T>
std::string raw(const std::vector<T>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}
// The files x.npy and y.npy holding `x` and `y`, and the dataset that reads them.
std::string write_npy_pair(const TempDir& dir, const std::string& x, const std::string& y) {
    test::write_bytes(dir / "x.npy", x), test::write_bytes(dir / "y.npy", y);
    return dataset("npy(" + quoted(dir / "x.npy") + ", " + quoted(dir / "y.npy") + ")");
}
// Two 2x1 float32 samples and their uint8 labels.
const std::string kNpyX = test::npy_bytes("<f4", "(2, 2, 1)", raw<float>({0.5f, -1.25f, 200.f, 3.f}));
const std::string kNpyY = test::npy_bytes("|u1", "(2,)", raw<uint8_t>({3, 7}));

const std::map<std::string, Fixture>& fixtures() {
    static const std::map<std::string, Fixture> table = {
        {"idx",
         {{{"plain",
            [](const TempDir& dir) {
                write_mnist(dir);
                return dataset("idx(" + quoted(dir / "img") + ", " + quoted(dir / "lbl") + ")");
            },
            check_mnist},
           {"gzipped",
            [](const TempDir& dir) {
                write_mnist(dir);
                for (const char* f : {"img", "lbl"}) test::write_gz(dir / f + ".gz", test::read_bytes(dir / f)), fs::remove(dir / f);
                return dataset("idx(" + quoted(dir / "img.gz") + ", " + quoted(dir / "lbl.gz") + ")");
            },
            check_mnist}},
          {{"truncated", [](const TempDir& dir) { return dataset(truncated_mnist(dir)); }, kTruncatedSays}}}},
        {"csv",
         {{{"header, label by name",
            [](const TempDir& dir) { return text_source(dir, "t.csv", "a,b,label\n1.5,2,1\n3,-4.25,0\n", "csv", ", label = \"label\""); },
            [](const rt::LabeledRows& r) {
                REQUIRE(r.x.shape() == rt::Dims{2, 2});
                CHECK(r.x[0] == 1.5f);
                CHECK(r.x[3] == -4.25f);
                CHECK(r.labels == std::vector<int32_t>{1, 0});
                CHECK(r.lines == std::vector<int64_t>{2, 3});
            }}},
          {{"a cell that is not a number",
            [](const TempDir& dir) { return text_source(dir, "t.csv", "a,b,label\n1.5,2,1\n3,abc,0\n", "csv", ", label = \"label\""); },
            "{dir}/t.csv:3: column 2: "}}}},
        {"sequences",
         {{{"padded before",
            [](const TempDir& dir) { return text_source(dir, "s.txt", "1 5 6 7\n0 9 8 7 6 5\n", "sequences", ", max_len = 4"); },
            [](const rt::LabeledRows& r) {
                REQUIRE(r.x.shape() == rt::Dims{2, 4});
                CHECK(std::vector<float>(r.x.data(), r.x.data() + 8) == std::vector<float>{0, 5, 6, 7, 8, 7, 6, 5});  // truncated before
                CHECK(r.labels == std::vector<int32_t>{1, 0});
            }}},
          {{"a token that is not a number",
            [](const TempDir& dir) { return text_source(dir, "s.txt", "1 5 6 7\n0 9 x\n", "sequences", ", max_len = 4"); },
            "{dir}/s.txt:2: "}}}},
        {"image_directory",
         {{{"a PNG and a JPEG resized to 2x2",
            [](const TempDir& dir) {
                write_folder(dir);
                return dataset("image_directory(" + quoted(dir / "pics") + ", image_size = (2, 2), shuffle = false)");
            },
            [](const rt::LabeledRows& r) {
                REQUIRE(r.x.shape() == rt::Dims{2, 2, 2, 3});
                CHECK(r.labels == std::vector<int32_t>{0, 1});  // ants, bees: the sorted folder names
                // Half-pixel bilinear 4 -> 2: each output pixel is the mean of a 2x2 block.
                CHECK(r.x[0] == Approx(25));                  // (0, 0): 10 * 0.5 + 40 * 0.5
                CHECK(r.x[(1 * 2 + 1) * 3] == Approx(125));   // (1, 1): 10 * 2.5 + 40 * 2.5
                CHECK(r.x[12] == Approx(200).margin(1));      // the JPEG's first pixel (lossy)
            }},
           {"nearest, grayscale",
            [](const TempDir& dir) {
                write_folder(dir);
                return dataset("image_directory(" + quoted(dir / "pics") +
                               ", image_size = (2, 2), color_mode = grayscale, interpolation = nearest, shuffle = false)");
            },
            [](const rt::LabeledRows& r) {
                REQUIRE(r.x.shape() == rt::Dims{2, 2, 2, 1});
                CHECK(r.x[0] == Approx(50));   // the pixel under the centre: (1, 1)
                CHECK(r.x[3] == Approx(150));  // (3, 3)
            }}},
          {{"an image that does not decode",
            [](const TempDir& dir) {
                write_folder(dir);
                std::ofstream(dir / "pics/bees/broken.jpg") << "not a JPEG";
                return dataset("image_directory(" + quoted(dir / "pics") + ", image_size = (2, 2))");
            },
            "{dir}/pics/bees/broken.jpg: cannot decode image"}}}},
        {"features",
         {{{"a flattening model",
            [](const TempDir& dir) {
                write_mnist(dir);
                return dataset("features(flat, src.train)", "dataset src {\n    train = idx(" + quoted(dir / "img") + ", " + quoted(dir / "lbl") +
                                                                    ")\n}\nmodel flat {\n    input(2, 2, 1)\n    Flatten()\n}\n");
            },
            [](const rt::LabeledRows& r) {
                REQUIRE(r.x.shape() == rt::Dims{2, 4});
                CHECK(r.x[2] == 20.f);
                CHECK(r.x[4] == 200.f);
                CHECK(r.labels == std::vector<int32_t>{3, 7});  // the labels stay
            }}},
          {{"its member's file truncated",
            [](const TempDir& dir) {
                return dataset("features(flat, src.train)",
                               "dataset src {\n    train = " + truncated_mnist(dir) + "\n}\nmodel flat {\n    input(2, 2, 1)\n    Flatten()\n}\n");
            },
            kTruncatedSays}}}},
        {"npy",
         {{{"float32 samples, uint8 labels (version 1.0)", [](const TempDir& dir) { return write_npy_pair(dir, kNpyX, kNpyY); },
            [](const rt::LabeledRows& r) {
                REQUIRE(r.x.shape() == rt::Dims{2, 2, 1});
                CHECK(r.x[1] == -1.25f);
                CHECK(r.x[2] == 200.f);
                CHECK(r.labels == std::vector<int32_t>{3, 7});
            }},
           {"float64 samples, int64 labels (N, 1) (version 2.0)",
            [](const TempDir& dir) {
                return write_npy_pair(dir, test::npy_bytes("<f8", "(3, 2)", raw<double>({1, 2, 3, 4, 5, 0.125}), 2),
                                      test::npy_bytes("<i8", "(3, 1)", raw<int64_t>({0, 1, 2}), 2));
            },
            [](const rt::LabeledRows& r) {
                REQUIRE(r.x.shape() == rt::Dims{3, 2});
                CHECK(r.x[5] == 0.125f);
                CHECK(r.labels == std::vector<int32_t>{0, 1, 2});
            }},
           {"uint8 samples, int32 labels (version 3.0)",
            [](const TempDir& dir) {
                return write_npy_pair(dir, test::npy_bytes("|u1", "(2, 1, 2)", raw<uint8_t>({0, 200, 9, 255}), 3), test::npy_bytes("<i4", "(2,)", raw<int32_t>({5, 1}), 3));
            },
            [](const rt::LabeledRows& r) {
                REQUIRE(r.x.shape() == rt::Dims{2, 1, 2});
                CHECK(r.x[1] == 200.f);
                CHECK(r.x[3] == 255.f);
                CHECK(r.labels == std::vector<int32_t>{5, 1});
            }}},
          {{"data shorter than the shape",
            [](const TempDir& dir) { return write_npy_pair(dir, test::npy_bytes("<f4", "(2, 2, 1)", raw<float>({1, 2, 3})), kNpyY); },
            "{dir}/x.npy: shape (2, 2, 1) of <f4 needs 16 bytes of data, file has 12"},
           {"Fortran order",
            [](const TempDir& dir) { return write_npy_pair(dir, test::npy_bytes("<f4", "(2, 2, 1)", raw<float>({1, 2, 3, 4}), 1, true), kNpyY); },
            "{dir}/x.npy: the array is in Fortran order"},
           {"big-endian",
            [](const TempDir& dir) { return write_npy_pair(dir, test::npy_bytes(">f4", "(2, 2, 1)", raw<float>({1, 2, 3, 4})), kNpyY); },
            "{dir}/x.npy: dtype '>f4' is big-endian"},
           {"objects",
            [](const TempDir& dir) { return write_npy_pair(dir, test::npy_bytes("|O", "(2, 1)", raw<uint64_t>({1, 2})), kNpyY); },
            "{dir}/x.npy: an array of Python objects (dtype '|O')"},
           {"float labels",
            [](const TempDir& dir) { return write_npy_pair(dir, kNpyX, test::npy_bytes("<f4", "(2,)", raw<float>({1, 0}))); },
            "{dir}/y.npy: y holds <f4 values; labels must be integers"},
           {"not a .npy file",
            [](const TempDir& dir) { return write_npy_pair(dir, "PK\x03\x04 a zip archive", kNpyY); },
            "{dir}/x.npy: not a .npy file"},
           {"fewer labels than samples",
            [](const TempDir& dir) { return write_npy_pair(dir, kNpyX, test::npy_bytes("|u1", "(1,)", raw<uint8_t>({3}))); },
            "{dir}/y.npy: 1 labels, but {dir}/x.npy has 2 samples"}}}},
    };
    return table;
}

}  // namespace

TEST_CASE("every data source of the list has a fixture here", "[data][conformance]") {
    std::set<std::string> listed, covered;
    for (const SourceKind& s : data_sources()) listed.insert(s.name);
    for (const auto& f : fixtures()) covered.insert(f.first);
    REQUIRE(listed == covered);
    for (const auto& f : fixtures()) {
        INFO(f.first);
        CHECK_FALSE(f.second.good.empty());
        CHECK_FALSE(f.second.bad.empty());
    }
}

TEST_CASE("every data source reads its files' exact values through its record", "[data][conformance]") {
    for (const auto& [source, fixture] : fixtures())
        for (const Case& c : fixture.good) {
            DYNAMIC_SECTION(source << ": " << c.name) {
                TempDir dir;
                c.check(load_member(dir, c.write(dir)));
            }
        }
}

TEST_CASE("every data source reports a damaged file by name", "[data][conformance]") {
    for (const auto& [source, fixture] : fixtures())
        for (const BadCase& c : fixture.bad) {
            DYNAMIC_SECTION(source << ": " << c.name) {
                TempDir dir;
                std::string text = c.write(dir);
                try {
                    load_member(dir, text);
                    FAIL("no error");
                } catch (const rt::UserError& e) {
                    std::string says = c.says;
                    for (size_t at; (at = says.find("{dir}")) != std::string::npos;) says.replace(at, 5, dir.path());
                    CHECK_THAT(e.what(), Catch::Contains(says));
                }
            }
        }
}

TEST_CASE("a misspelt interpolation is a located error listing the methods the reader has", "[data][conformance]") {
    auto c = test::compile("dataset d {\n    train = image_directory(\"pics\", interpolation = bilinaer)\n}\n");
    CHECK(test::errors(*c) == std::vector<std::string>{
                                  "2:53: error: unknown value 'bilinaer' for argument 'interpolation' of data source image_directory (one of bilinear, "
                                  "nearest, bicubic, area); did you mean 'bilinear'?"});
}

TEST_CASE("cnnc check looks for the files the record names: npy's x and y", "[data][conformance][paths]") {
    TempDir dir;
    test::write_bytes(dir / "x.npy", kNpyX);
    FrontendOptions o;
    o.import_dirs = {test::root() + "/stdlib"};
    o.data_paths = DataPathCheck::Run;
    auto c = compile_text(dataset("npy(" + quoted(dir / "x.npy") + ", " + quoted(dir / "nope.npy") + ")") +
                              "model m {\n    input(2, 1)\n    Flatten()\n    Dense(8, activation = softmax)\n}\n"
                              "evaluate m on d.train { loss = sparse_categorical_crossentropy }\n",
                          dir / "test.cnn", o);
    auto errors = test::errors(*c);
    REQUIRE(errors.size() == 1);
    const size_t y_column = ("    train = npy(" + quoted(dir / "x.npy") + ", ").size() + 1;
    CHECK(errors[0] == "2:" + std::to_string(y_column) + ": error: no such file: \"" + dir / "nope.npy\"");
}
