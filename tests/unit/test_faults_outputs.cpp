// Issue 9, items 12, 14, 15 and 20: a training's outputs under faults. A full disk fails the run
// cleanly (exit 1, no temporary file left, the previous outputs untouched and consistent); an
// unwritable output directory is found before the first epoch; plots never come out empty; and
// hostile directory or model names never reach gnuplot as script text.
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "Bars.h"
#include "Faults.h"
#include "Error.h"
#include "Helpers.h"
#include "TempDir.h"
#include "io/AtomicFile.h"
#include "io/Weights.h"
#include "train/Plots.h"

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

// A tmpfs mounted at `dir` for the scope (options as mount(8) takes them); root only.
struct Tmpfs {
    std::string dir;
    Tmpfs(const std::string& d, const std::string& options) : dir(d) {
        if (::geteuid() != 0) skip("mounting a tmpfs needs root");
        fs::create_directories(dir);
        if (::mount("tmpfs", dir.c_str(), "tmpfs", options.find("ro") == 0 ? MS_RDONLY : 0,
                    options.find("ro") == 0 ? nullptr : options.c_str()) != 0)
            skip("cannot mount a tmpfs here: " + std::string(std::strerror(errno)));
    }
    ~Tmpfs() { ::umount2(dir.c_str(), MNT_DETACH); }
    // Fills the file system until at most `free_bytes` are left.
    void fill(uint64_t free_bytes) const {
        struct statvfs st;
        REQUIRE(::statvfs(dir.c_str(), &st) == 0);
        uint64_t avail = uint64_t(st.f_bavail) * st.f_frsize;
        if (avail > free_bytes) {
            std::ofstream f(dir + "/filler", std::ios::binary);
            std::string block(avail - free_bytes, 'x');
            f.write(block.data(), static_cast<std::streamsize>(block.size()));
        }
    }
    std::vector<std::string> entries() const {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }
};

rt::History two_epochs() {
    rt::History h;
    h.add(1, {{"loss", 0.5}, {"accuracy", 0.75}, {"val_loss", 0.6}, {"val_accuracy", 0.7}});
    h.add(2, {{"loss", 0.25}, {"accuracy", 0.875}, {"val_loss", 0.4}, {"val_accuracy", 0.8}});
    return h;
}

bool have_gnuplot() { return std::system("command -v gnuplot > /dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("faults: StagedFiles replaces all its files or none, and leaves no temporary file", "[faults][outputs]") {
    TempDir dir;
    Tmpfs disk(dir / "disk", "size=64k");
    write_bytes(disk.dir + "/a", "old a");
    write_bytes(disk.dir + "/b", "old b");
    {
        rt::StagedFiles batch;
        batch.stage_contents(disk.dir + "/a", "new a");
        CHECK_THROWS_WITH(batch.stage_contents(disk.dir + "/b", std::string(1 << 20, 'x')),
                          disk.dir + "/b: cannot write: No space left on device");
    }  // not committed: the temporaries go
    CHECK(disk.entries() == std::vector<std::string>{"a", "b"});
    CHECK(slurp(disk.dir + "/a") == "old a");
    CHECK(slurp(disk.dir + "/b") == "old b");
    rt::StagedFiles batch;
    batch.stage_contents(disk.dir + "/a", "new a");
    batch.stage_contents(disk.dir + "/b", "new b");
    batch.commit();
    CHECK(slurp(disk.dir + "/a") == "new a");
    CHECK(slurp(disk.dir + "/b") == "new b");
    CHECK(disk.entries() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("faults: cnnc run on a full disk fails cleanly and keeps the previous outputs as they were", "[faults][outputs]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars_files(d, 64, 32, kModel);
    Tmpfs disk(dir / "out", "size=1m");
    CommandResult first = run_cnnc("run bars.cnn --seed 1 --output-dir out", d.string());
    INFO(first.output);
    REQUIRE(first.status == 0);
    const std::vector<std::string> files = disk.entries();
    std::map<std::string, std::string> before;
    for (const auto& f : files) before[f] = slurp(disk.dir + "/" + f);
    // Room for the per-epoch state (a few pages), not for the weights, the history and the plots.
    disk.fill(24 << 10);
    CommandResult full = run_cnnc("run bars.cnn --seed 2 --output-dir out", d.string());
    INFO(full.output);
    CHECK(full.status == 1);
    CHECK_THAT(full.output, Catch::Contains("No space left on device"));
    CHECK_THAT(full.output, !Catch::Contains("internal error"));
    for (const auto& [f, bytes] : before) CHECK(slurp(disk.dir + "/" + f) == bytes);  // old and consistent
    for (const auto& f : disk.entries()) CHECK(f.find(".tmp") == std::string::npos);  // no temporary left
}

TEST_CASE("faults: save_weights on a full disk is a clean error, the old file intact, no temporary left", "[faults][outputs]") {
    TempDir dir;
    Tmpfs disk(dir / "disk", "size=64k");
    rt::Param p;
    p.name = "dense/kernel";
    p.keras3_path = "layers/dense/vars/0";
    p.value = rt::Tensor({64, 256});  // 64 KiB of floats: more than the disk holds
    p.value.fill(0.5f);
    write_bytes(disk.dir + "/m.weights.h5", "old weights");
    CHECK_THROWS_WITH(rt::save_weights(disk.dir + "/m.weights.h5", {&p}), Catch::Contains("No space left on device"));
    CHECK(slurp(disk.dir + "/m.weights.h5") == "old weights");
    CHECK(disk.entries() == std::vector<std::string>{"m.weights.h5"});
}

TEST_CASE("faults: plots on a full disk are an error, never empty files listed as written", "[faults][outputs]") {
    if (!have_gnuplot()) skip("gnuplot is not installed");
    TempDir dir;
    Tmpfs disk(dir / "disk", "size=64k");
    disk.fill(0);
    {
        rt::StagedFiles batch;
        CHECK_THROWS_WITH(rt::write_plots(two_epochs(), disk.dir + "/m", "m", batch), Catch::EndsWith("No space left on device"));
    }
    CHECK(disk.entries() == std::vector<std::string>{"filler"});  // no 0-byte plot, no temporary
}

TEST_CASE("faults: an unwritable --output-dir is an error before the first epoch", "[faults][outputs]") {
    TempDir dir;
    fs::path d(dir.path());
    write_bars_problem(d);
    Tmpfs ro(dir / "ro", "ro");
    CommandResult r = run_cnnc("run bars.cnn --output-dir ro", d.string());
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("error: --output-dir ro: cannot write there: Read-only file system"));
    CHECK_THAT(r.output, !Catch::Contains("Epoch 1/"));
}

TEST_CASE("faults: hostile output directory and title names are never run as gnuplot code", "[faults][outputs]") {
    if (!have_gnuplot()) skip("gnuplot is not installed");
    TempDir dir;
    fs::path d(dir.path());
    const std::string pwned = dir / "PWNED";
    SECTION("through cnnc run --output-dir") {
        write_bars_files(d, 32, 16, kModel);
        // Were it run, the command would leave PWNED in $HOME (the test's directory), whatever
        // gnuplot's working directory.
        for (std::string out : {std::string("q'.system(\"cd $HOME;touch PWNED\").'x"), std::string("o'brien")}) {
            fs::create_directory(d / out);
            std::string quoted = "'";
            for (char c : out) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
            CommandResult r = run_cnnc("run bars.cnn --epochs 1 --output-dir " + quoted + "'", d.string(), "HOME='" + d.string() + "'");
            INFO(r.output);
            CHECK(r.status == 0);
            CHECK(fs::file_size(d / out / "bar_net_loss.png") > 1000);
            CHECK(fs::file_size(d / out / "bar_net_accuracy.svg") > 1000);
        }
    }
    SECTION("through the title") {
        rt::StagedFiles batch;
        auto plots = rt::write_plots(two_epochs(), dir / "m", "a'.system(\"touch " + pwned + "\").'b\nsystem(\"touch " + pwned + "\")", batch);
        batch.commit();
        CHECK(plots.size() == 4);
        CHECK_THAT(slurp(dir / "m_loss.svg"), Catch::Contains("<text>a'.system(\"touch "));  // the title, as text
    }
    CHECK_FALSE(fs::exists(pwned));
}
