// The data readers on hostile and broken files the tests write: IDX files whose headers lie, CSV and
// sequence files with BOMs, hex numbers and huge cells, labels and token ids out of range, image
// folders with symlink loops, FIFOs and PNGs with a flipped bit. Each is a clear error naming the
// file (exit 1 from the command line), never exit 3, a signal or silently wrong numbers.
#include <stb/stb_image_write.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "Error.h"
#include "Helpers.h"
#include "TempDir.h"
#include "TestData.h"
#include "data/Idx.h"
#include "data/ImageFolder.h"
#include "data/Table.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

std::string be32(uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// The message of the UserError `f` throws; fails the test when it throws none.
template <typename F>
std::string error_of(F f) {
    try {
        f();
    } catch (const rt::UserError& e) {
        return e.what();
    }
    FAIL("no UserError");
    return "";
}

// A small digit model trained on the IDX pair `images`/`labels` (28x28 images), with `labels`.
std::string idx_model(const std::string& images, const std::string& labels, const std::string& encoding = "int",
                      const std::string& loss = "sparse_categorical_crossentropy", int units = 10) {
    return "dataset d {\n    train = idx(\"" + images + "\", \"" + labels + "\")\n    labels = " + encoding +
           "\n}\nmodel m {\n    input(28, 28, 1)\n    Flatten()\n    Dense(" + std::to_string(units) +
           ", activation = " + (units == 1 ? "sigmoid" : "softmax") + ")\n}\ntrain m on d.train {\n    loss = " + loss +
           "\n    epochs = 1\n}\n";
}

}  // namespace

TEST_CASE("IDX .gz: sizes are checked while streaming, not after decompressing the whole file", "[data][idx][faults]") {
#ifdef __SANITIZE_ADDRESS__
    // Defined by the compiler in a sanitized build (scripts/test-sanitized), whose cnnc is too.
    skip("ASan reserves terabytes of address space for its shadow memory, so cnnc cannot start under `ulimit -v`");
#endif
    TempDir dir;
    // 700,000 images of 28x28 zeros: 549 MB of pixels (2.2 GB as floats) in a ~0.5 MB gzip file.
    const uint32_t n = 700000;
    {
        gzFile f = gzopen((dir / "images.gz").c_str(), "wb1");
        REQUIRE(f);
        std::string header = be32(0x803) + be32(n) + be32(28) + be32(28);
        gzwrite(f, header.data(), static_cast<unsigned>(header.size()));
        std::string zeros(28 * 28 * 1000, '\0');
        for (uint32_t i = 0; i < n / 1000; ++i) REQUIRE(gzwrite(f, zeros.data(), static_cast<unsigned>(zeros.size())) > 0);
        REQUIRE(gzclose(f) == Z_OK);
        gzFile l = gzopen((dir / "labels.gz").c_str(), "wb1");
        std::string lh = be32(0x801) + be32(n) + std::string(n, '\1');
        gzwrite(l, lh.data(), static_cast<unsigned>(lh.size()));
        REQUIRE(gzclose(l) == Z_OK);
    }
    std::ofstream(dir / "m.cnn") << idx_model("images.gz", "labels.gz");
    // Under a 1.5 GB address-space limit the floats cannot fit: an error naming the file, exit 1
    // (main decompressed the whole file into a doubling buffer first and died with exit 3).
    CommandResult r = run_shell("cd '" + dir.path() + "' && ulimit -v 1500000 && " + CNNC_BINARY + " run m.cnn");
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("images.gz: 700000 images of 28x28 pixels need 2.20 GB of memory"));
}

TEST_CASE("IDX: a header that promises more than the file can hold is refused before allocating", "[data][idx][faults]") {
    TempDir dir;
    write_bytes(dir / "labels", be32(0x801) + be32(1) + std::string(1, '\0'));
    // A 60-byte gzip file cannot inflate to 4 GB (deflate expands at most 1032:1).
    gzFile f = gzopen((dir / "images.gz").c_str(), "wb");
    std::string h = be32(0x803) + be32(0xffffffu) + be32(16) + be32(16) + "abc";
    gzwrite(f, h.data(), static_cast<unsigned>(h.size()));
    REQUIRE(gzclose(f) == Z_OK);
    std::string e = error_of([&] { rt::load_idx(dir / "images.gz", dir / "labels"); });
    CHECK_THAT(e, Catch::StartsWith(dir / "images.gz" + ": truncated: header promises 4294967040 bytes of pixels, more than a "));
    CHECK_THAT(e, Catch::EndsWith("-byte gzip file can hold"));
    // Trailing garbage after a gzipped payload.
    gzFile g = gzopen((dir / "long.gz").c_str(), "wb");
    std::string l = be32(0x801) + be32(1) + std::string(1, '\0') + "junk";
    gzwrite(g, l.data(), static_cast<unsigned>(l.size()));
    REQUIRE(gzclose(g) == Z_OK);
    CHECK(error_of([&] { rt::load_idx(dir / "images.gz", dir / "long.gz"); }) ==
          dir / "long.gz" + ": too long: header promises 1 bytes of labels, file has 5");
}

TEST_CASE("CSV: a UTF-8 BOM is stripped, hex, nan, inf and empty cells are refused, a huge cell is shortened",
          "[data][csv][faults]") {
    TempDir dir;
    rt::CsvOptions o;
    o.label_name = "label";
    write_bytes(dir / "bom.csv", "\xEF\xBB\xBFlabel,x\n1,2.5\n0,-1e2\n");
    rt::LabeledRows r = rt::load_csv(dir / "bom.csv", o);
    CHECK(r.labels == std::vector<int32_t>{1, 0});
    CHECK(r.x[0] == 2.5f);
    CHECK(r.x[1] == -100.0f);
    CHECK(r.lines == std::vector<int64_t>{2, 3});

    auto bad = [&](const std::string& cell) {
        write_bytes(dir / "bad.csv", "label,x\n1,2\n0," + cell + "\n");
        return error_of([&] { rt::load_csv(dir / "bad.csv", o); });
    };
    CHECK(bad("0x10") == dir / "bad.csv" + ":3: column 2: '0x10' is not a decimal number");
    CHECK(bad("nan") == dir / "bad.csv" + ":3: column 2: 'nan' is not a finite number");
    CHECK(bad("-Infinity") == dir / "bad.csv" + ":3: column 2: '-Infinity' is not a finite number");
    CHECK(bad("  ") == dir / "bad.csv" + ":3: column 2: empty cell");
    CHECK(bad("1e999") == dir / "bad.csv" + ":3: column 2: '1e999' is out of range");
    CHECK(bad("1.5.2") == dir / "bad.csv" + ":3: column 2: '1.5.2' is not a decimal number");
    std::string huge(10 << 20, 'z');
    std::string e = bad(huge);
    CHECK(e.size() < 200);
    CHECK(e == dir / "bad.csv" + ":3: column 2: '" + std::string(40, 'z') + "...' (10485760 bytes) is not a decimal number");

    fs::create_directory(dir / "folder.csv");
    CHECK(error_of([&] { rt::load_csv(dir / "folder.csv", o); }) == dir / "folder.csv" + ": is a directory, not a file");
}

TEST_CASE("sequences: the same checks as CSV, and token ids must be non-negative integers", "[data][sequences][faults]") {
    TempDir dir;
    rt::SequenceOptions o;
    o.max_len = 3;
    write_bytes(dir / "s.txt", "\xEF\xBB\xBF" "1 4 5\n\n0 7\n");
    rt::LabeledRows r = rt::load_sequences(dir / "s.txt", o);
    CHECK(r.labels == std::vector<int32_t>{1, 0});
    CHECK(r.lines == std::vector<int64_t>{1, 3});
    auto bad = [&](const std::string& line) {
        write_bytes(dir / "bad.txt", "1 2 3\n" + line + "\n");
        return error_of([&] { rt::load_sequences(dir / "bad.txt", o); });
    };
    CHECK(bad("0 0x10") == dir / "bad.txt" + ":2: '0x10' is not a decimal number");
    CHECK(bad("0 inf") == dir / "bad.txt" + ":2: 'inf' is not a finite number");
    CHECK(bad("0 -3") == dir / "bad.txt" + ":2: '-3' is not a token id (a non-negative integer)");
    CHECK(bad("0 2.5") == dir / "bad.txt" + ":2: '2.5' is not a token id (a non-negative integer)");
    CHECK(bad("0 " + std::string(1 << 20, '9') + "x").size() < 200);
    fs::create_directory(dir / "dir.txt");
    CHECK(error_of([&] { rt::load_sequences(dir / "dir.txt", o); }) == dir / "dir.txt" + ": is a directory, not a file");
}

TEST_CASE("labels outside the loss's range are an error naming the file, the sample and the statement", "[data][labels][faults]") {
    TempDir dir;
    // IDX with labels = binary: a digit label 7 (main trained on it: loss -11.7, exit 0).
    write_idx(dir / "images", dir / "labels", 4, 28, 28, [](int i, int, int) { return static_cast<unsigned char>(i); },
              [](int i) { return i == 2 ? 7 : i % 2; });
    std::ofstream(dir / "bin.cnn") << idx_model("images", "labels", "binary", "binary_crossentropy", 1);
    CommandResult r = run_cnnc("run bin.cnn", dir.path());
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("error: labels: sample 2 (counting from 0): label 7 is out of range "
                                         "(labels = binary allows 0..1); used by train m on d.train (line 10)"));

    // CSV with int labels and 3 output units under sparse cross-entropy: label 3 is one too many.
    write_bytes(dir / "t.csv", "label,a,b\n0,1,2\n2,3,4\n3,5,6\n");
    std::ofstream(dir / "csv.cnn") << "dataset d {\n    train = csv(\"t.csv\", label = \"label\")\n    labels = int\n}\n"
                                      "model m {\n    input(2)\n    Dense(3, activation = softmax)\n}\n"
                                      "train m on d.train {\n    loss = sparse_categorical_crossentropy\n}\n";
    r = run_cnnc("run csv.cnn", dir.path());
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("t.csv: line 4: label 3 is out of range (sparse_categorical_crossentropy with 3 output "
                                         "units allows 0..2); used by train m on d.train (line 9)"));
}

TEST_CASE("token ids outside an Embedding's input_dim are an error, not clamped", "[data][sequences][faults]") {
    TempDir dir;
    // Line 3 holds id 10^12 (main clamped it to a valid row and trained).
    write_bytes(dir / "s.txt", "1 3 4 5\n0 1 2\n1 9 1000000000000\n");
    std::ofstream(dir / "e.cnn") << "dataset d {\n    train = sequences(\"s.txt\", max_len = 4)\n    labels = binary\n}\n"
                                    "model m {\n    input(4)\n    Embedding(10, 2)\n    Flatten()\n"
                                    "    Dense(1, activation = sigmoid)\n}\n"
                                    "train m on d.train {\n    loss = binary_crossentropy\n}\n";
    CommandResult r = run_cnnc("run e.cnn", dir.path());
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("s.txt: line 3: token id 999999995904 is not in 0..9, the vocabulary of Embedding "
                                         "'embedding' (input_dim = 10) in model 'm'; used by train m on d.train (line 11)"));
    // max_features maps large ids to 2 (Keras' oov_char), which then fits.
    std::ofstream(dir / "e2.cnn") << "dataset d {\n    train = sequences(\"s.txt\", max_len = 4, max_features = 10)\n"
                                     "    labels = binary\n}\nmodel m {\n    input(4)\n    Embedding(10, 2)\n    Flatten()\n"
                                     "    Dense(1, activation = sigmoid)\n}\ntrain m on d.train {\n    loss = binary_crossentropy\n}\n";
    r = run_cnnc("run e2.cnn", dir.path());
    INFO(r.output);
    CHECK(r.status == 0);
}

namespace {

// A PNG of 8x8 RGB pixels written by stb_image_write, as bytes.
std::string png_bytes(const fs::path& p) {
    unsigned char px[8 * 8 * 3];
    for (int i = 0; i < 8 * 8 * 3; ++i) px[i] = static_cast<unsigned char>(i * 7);
    REQUIRE(stbi_write_png(p.string().c_str(), 8, 8, 3, px, 8 * 3));
    return read_bytes(p.string());
}

// Recomputes the CRC of the chunk whose type starts at `type` (length 4 bytes before it).
void fix_crc(std::string& png, size_t type) {
    auto u = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(png[k])); };
    uint32_t len = u(type - 4) << 24 | u(type - 3) << 16 | u(type - 2) << 8 | u(type - 1);
    uLong c = crc32(0, reinterpret_cast<const Bytef*>(png.data() + type), len + 4);
    png.replace(type + 4 + len, 4, be32(static_cast<uint32_t>(c)));
}

}  // namespace

TEST_CASE("PNG: a flipped bit is an error (CRC, Adler-32), or skipped under skip_corrupt", "[data][images][faults]") {
    TempDir dir;
    fs::create_directories(fs::path(dir.path()) / "a");
    std::string good = png_bytes(dir / "a/good.png");
    size_t idat = good.find("IDAT");
    REQUIRE(idat != std::string::npos);
    rt::ImageFolderOptions o;
    o.height = o.width = 8;
    auto u = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(good[k])); };
    uint32_t len = u(idat - 4) << 24 | u(idat - 3) << 16 | u(idat - 2) << 8 | u(idat - 1);

    SECTION("the last byte of the zlib stream (its Adler-32), with the chunk's CRC made to match") {
        std::string bad = good;
        bad[idat + 4 + len - 1] ^= 1;  // stb_image decoded this to the right pixels and never noticed
        fix_crc(bad, idat);
        write_bytes(dir / "a/bad.png", bad);
        CHECK(error_of([&] { rt::load_image_folder(dir.path(), o); }) ==
              dir / "a/bad.png" + ": cannot decode image (IDAT: incorrect data check); skip_corrupt = true leaves such files out");
    }
    SECTION("every single-bit flip after the signature is an error") {
        int accepted = 0;
        for (size_t k = 8; k < good.size(); ++k)
            for (int bit = 0; bit < 8; ++bit) {
                std::string bad = good;
                bad[k] ^= static_cast<char>(1 << bit);
                write_bytes(dir / "flip.png", bad);
                try {
                    rt::load_image(dir / "flip.png", o);
                    ++accepted;
                } catch (const rt::UserError&) {
                }
            }
        CHECK(accepted == 0);
    }
    SECTION("skip_corrupt leaves it out") {
        std::string bad = good;
        bad[idat + 4 + len - 1] ^= 1;
        fix_crc(bad, idat);
        write_bytes(dir / "a/bad.png", bad);
        o.skip_corrupt = true;
        std::vector<std::string> skipped;
        CHECK(rt::load_image_folder(dir.path(), o, nullptr, &skipped).labels.size() == 1);
        CHECK(skipped == std::vector<std::string>{dir / "a/bad.png"});
    }
}

TEST_CASE("PNG through libpng: the same pixels as before for gray, RGB and RGBA, 16-bit by the high byte", "[data][images]") {
    TempDir dir;
    unsigned char px[2 * 3] = {10, 200, 30, 40, 250, 60};  // 2x1 RGB
    REQUIRE(stbi_write_png((dir / "c.png").c_str(), 2, 1, 3, px, 6));
    rt::ImageFolderOptions o;
    o.height = 1, o.width = 2, o.interpolation = rt::Interpolation::nearest;
    o.channels = 4;
    rt::Tensor t = rt::load_image(dir / "c.png", o);
    CHECK(std::vector<float>(t.data(), t.data() + 8) == std::vector<float>{10, 200, 30, 255, 40, 250, 60, 255});
    o.channels = 1;  // stb's weights: (77 r + 150 g + 29 b) >> 8
    t = rt::load_image(dir / "c.png", o);
    CHECK(t[0] == static_cast<float>((77 * 10 + 150 * 200 + 29 * 30) >> 8));
    CHECK(t[1] == static_cast<float>((77 * 40 + 150 * 250 + 29 * 60) >> 8));
}

TEST_CASE("image folders: symlink loops, dangling links, FIFOs and folders named x.jpg are ignored with a warning",
          "[data][images][faults]") {
    TempDir dir;
    fs::path d(dir.path());
    fs::create_directories(d / "cats");
    fs::create_directories(d / "dogs" / "folder.jpg");
    png_bytes(d / "cats" / "ok.png");
    png_bytes(d / "dogs" / "ok.png");
    fs::create_symlink("loop.jpg", d / "cats" / "loop.jpg");        // a link to itself
    fs::create_symlink("missing.png", d / "cats" / "dangling.png");  // to nothing
    fs::create_directory_symlink("..", d / "dogs" / "up");           // a directory loop, not followed
    fs::create_symlink("loopclass", d / "loopclass");                // at the class level
    REQUIRE(::mkfifo((d / "dogs" / "pipe.png").c_str(), 0600) == 0);  // opening it would block
    rt::ImageFolderOptions o;
    o.height = o.width = 8;
    std::vector<std::string> classes, skipped, ignored;
    rt::LabeledRows r = rt::load_image_folder(d.string(), o, &classes, &skipped, &ignored);
    CHECK(classes == std::vector<std::string>{"cats", "dogs"});
    CHECK(r.labels == std::vector<int32_t>{0, 1});
    std::sort(ignored.begin(), ignored.end());
    REQUIRE(ignored.size() == 5);
    CHECK(ignored[0] == (d / "cats" / "dangling.png").string() + " (a dangling symbolic link)");
    CHECK_THAT(ignored[1], Catch::StartsWith((d / "cats" / "loop.jpg").string() + " (") && Catch::Contains("symbolic links"));
    CHECK(ignored[2] == (d / "dogs" / "folder.jpg").string() + " (a directory)");
    CHECK(ignored[3] == (d / "dogs" / "pipe.png").string() + " (not a regular file)");
    CHECK_THAT(ignored[4], Catch::StartsWith((d / "loopclass").string() + " (") && Catch::Contains("symbolic links"));

    // From the command line: a warning naming each, and the run goes on (main stopped with exit 3).
    std::ofstream(d / "m.cnn") << "dataset d {\n    train = image_directory(\".\", image_size = (8, 8))\n    labels = binary\n}\n"
                                  "model m {\n    input(8, 8, 3)\n    Flatten()\n    Dense(1, activation = sigmoid)\n}\n"
                                  "train m on d.train {\n    loss = binary_crossentropy\n}\n";
    CommandResult run = run_cnnc("run m.cnn", d.string());
    INFO(run.output);
    CHECK(run.status == 0);
    CHECK_THAT(run.output, Catch::Contains("warning: d.train: ignored ./dogs/pipe.png (not a regular file)"));
}

TEST_CASE("interpolation = bicubic and area resize as TF does (they were bilinear)", "[data][images]") {
    TempDir dir;
    unsigned char two[2] = {0, 100}, three[3] = {10, 20, 40};
    REQUIRE(stbi_write_png((dir / "two.png").c_str(), 2, 1, 1, two, 2));
    REQUIRE(stbi_write_png((dir / "three.png").c_str(), 3, 1, 1, three, 3));
    rt::ImageFolderOptions o;
    o.channels = 1, o.height = 1;
    // Keys' cubic, a = -0.5: W(d) = 1.5|d|^3 - 2.5|d|^2 + 1 within 1, -0.5|d|^3 + 2.5|d|^2 - 4|d| + 2 within 2.
    // Output x = 0 samples at -0.25: only inputs 0 (d = 0.25) and 1 (d = 1.25) exist, renormalised:
    // 100 W(1.25) / (W(0.25) + W(1.25)) = 100 (-0.0703125) / 0.796875. Output 1 samples at 0.25:
    // 100 W(0.75) / (W(0.25) + W(0.75)) = 100 (0.2265625) / 1.09375. Outputs 2 and 3 mirror them.
    o.width = 4, o.interpolation = rt::Interpolation::bicubic;
    rt::Tensor t = rt::load_image(dir / "two.png", o);
    const double w1 = -7.03125 / 0.796875, w2 = 22.65625 / 1.09375;
    CHECK(t[0] == Approx(w1).epsilon(1e-6));
    CHECK(t[1] == Approx(w2).epsilon(1e-6));
    CHECK(t[2] == Approx(100 - w2).epsilon(1e-6));
    CHECK(t[3] == Approx(100 - w1).epsilon(1e-6));
    // Area, 3 -> 2: each output covers 1.5 inputs: (10 + 20 / 2) / 1.5 and (20 / 2 + 40) / 1.5.
    o.width = 2, o.interpolation = rt::Interpolation::area;
    t = rt::load_image(dir / "three.png", o);
    CHECK(t[0] == Approx(20.0 / 1.5).epsilon(1e-6));
    CHECK(t[1] == Approx(50.0 / 1.5).epsilon(1e-6));
}

TEST_CASE("a dataset's shuffle and seed, which did nothing, are refused", "[data][check]") {
    for (const char* option : {"shuffle = false", "seed = 3"}) {
        auto c = compile(std::string("dataset d {\n    train = image_directory(\"x\")\n    ") + option + "\n}\n");
        std::string name = std::string(option).substr(0, std::string(option).find(' '));
        bool found = false;
        for (const std::string& e : errors(*c)) found |= e.rfind("3:", 0) == 0 && e.find("'" + name + "' is not a dataset option") != std::string::npos;
        INFO(c->diags.render());
        CHECK(found);
    }
}

TEST_CASE("image_directory(shuffle = false) splits the sorted files as Keras does, the split counts int(fraction * n)",
          "[data][images]") {
    rt::LabeledRows all;
    all.x = rt::Tensor({10, 1});
    for (int i = 0; i < 10; ++i) all.x[i] = static_cast<float>(i), all.labels.push_back(i);
    // Keras: num_val = int(0.29 * 10) = 2, so 8 training samples (int(10 * 0.71) would give 7).
    rt::LabeledRows tr = rt::take_subset(all, 0.29, false, 1, false), va = rt::take_subset(all, 0.29, true, 1, false);
    CHECK(tr.labels == std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7});
    CHECK(va.labels == std::vector<int32_t>{8, 9});
    rt::LabeledRows sh = rt::take_subset(all, 0, false, 1, true);  // shuffle alone: all of them, reordered
    REQUIRE(sh.labels.size() == 10);
    CHECK(sh.labels != all.labels);
}

TEST_CASE("JPEG: a Huffman table of more than 256 symbols is a clear error",
          "[data][image][faults]") {
    // The fuzzer's reproducer (tests/fuzz/regressions/image/): a DHT segment whose 16 code counts add
    // up to 257 or more. Debian's stb_image 2.27, cnnc's JPEG decoder then, wrote h->size[257] for it;
    // libjpeg-turbo refuses the table.
    rt::ImageFolderOptions o;
    o.height = 4, o.width = 4, o.channels = 3;
    try {
        rt::load_image(root() + "/tests/fuzz/regressions/image/jpeg_huffman_index_257", o);
        FAIL("the corrupt JPEG decoded");
    } catch (const rt::UserError& e) {
        CHECK_THAT(e.what(), Catch::Contains("jpeg_huffman_index_257"));
        CHECK_THAT(e.what(), Catch::Contains("Huffman table"));
    }
}

TEST_CASE("an image whose header declares a huge size is refused before any pixel buffer is allocated",
          "[data][image][faults]") {
    // A 19-byte GIF that claims 65535 x 65535 pixels: decoding it would allocate gigabytes (the image
    // fuzzer's out-of-memory find). Every decoder path refuses more than kMaxImagePixels.
    TempDir dir;
    const std::string path = dir.path() + "/bomb.gif";
    const unsigned char gif[] = {'G', 'I', 'F', '8', '9', 'a', 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x3B};
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(gif), sizeof gif);
    rt::ImageFolderOptions o;
    o.height = 4, o.width = 4, o.channels = 3;
    try {
        rt::load_image(path, o);
        FAIL("the image decoded");
    } catch (const rt::UserError& e) {
        CHECK_THAT(e.what(), Catch::Contains("65535 x 65535 pixels"));
    }
}

TEST_CASE("a PGM image still decodes (cnnc predict of a digit, as scripts/demo does)", "[data][image]") {
    TempDir dir;
    const std::string path = dir.path() + "/digit.pgm";
    const std::string pgm = std::string("P5\n2 2\n255\n") + std::string("\x00\x40\x80\xff", 4);
    std::ofstream(path, std::ios::binary) << pgm;
    rt::ImageFolderOptions o;
    o.height = 2, o.width = 2, o.channels = 1;
    rt::Tensor t = rt::load_image(path, o);
    REQUIRE(t.size() == 4);
    CHECK(t[0] == 0.f);
    CHECK(t[1] == 64.f);
    CHECK(t[2] == 128.f);
    CHECK(t[3] == 255.f);
}
