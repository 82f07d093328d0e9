// The on-disk kernel cache under faults, end to end with `cnnc run` on the bars model: cached files
// truncated or with single flipped bits in their code, a corrupt object whose shared object is
// gone, a directory where a shared object belongs, temporaries left by killed processes, and a
// cache on a disk that fills up. Every one must end in exit 0, a warning naming the file, the
// damaged kernel compiled again (or in memory), and the losses of a clean run; the recorded
// checksums are checked with coreutils' sha256sum, independently of cnnc's own SHA-256.
#include <fmt/format.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "Bars.h"
#include "Helpers.h"
#include "TempDir.h"
#include "kernels/Aot.h"

// After Halide.h (in Aot.h), whose enums use the names of <elf.h>'s macros.
#include <elf.h>

using namespace cnnc;
using namespace cnnc::test;
namespace fs = std::filesystem;

namespace {

std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes; }

// The file offset and size of an ELF64 file's .text section: where a kernel's code is.
std::pair<size_t, size_t> text_section(const std::string& elf) {
    REQUIRE(elf.size() >= sizeof(Elf64_Ehdr));
    Elf64_Ehdr eh;
    std::memcpy(&eh, elf.data(), sizeof eh);
    REQUIRE(std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0);
    REQUIRE(eh.e_shoff + size_t(eh.e_shnum) * sizeof(Elf64_Shdr) <= elf.size());
    auto section = [&](size_t i) {
        Elf64_Shdr sh;
        std::memcpy(&sh, elf.data() + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof sh);
        return sh;
    };
    Elf64_Shdr names = section(eh.e_shstrndx);
    for (size_t i = 0; i < eh.e_shnum; ++i) {
        Elf64_Shdr sh = section(i);
        if (std::strcmp(elf.data() + names.sh_offset + sh.sh_name, ".text") == 0) return {sh.sh_offset, sh.sh_size};
    }
    FAIL("no .text section");
    return {0, 0};
}

// The bars problem with a warm kernel cache, and the losses of that clean run: the reference every
// damaged run must reproduce.
struct WarmCache {
    TempDir tmp;
    fs::path dir{tmp.path()}, cache{dir / "cache"};
    std::vector<double> clean;

    WarmCache() {
        write_bars_problem(dir);
        CommandResult r = run("clean");
        INFO(r.output);
        REQUIRE(r.status == 0);
        clean = losses(dir / "clean" / "bar_net_history.csv");
    }
    CommandResult run(const std::string& out, const fs::path& cache_dir = {}) const {
        return run_cnnc("run bars.cnn --seed 3 --epochs 2 --output-dir " + out, dir.string(),
                        "CNNC_CACHE_DIR='" + (cache_dir.empty() ? cache : cache_dir).string() + "'");
    }
    std::vector<double> losses_of(const std::string& out) const { return losses(dir / out / "bar_net_history.csv"); }
    // The cached kernels' files with extension `ext` (".so", ".o"), in name order.
    std::vector<fs::path> kernels(const std::string& ext) const {
        std::vector<fs::path> out;
        for (const auto& e : fs::directory_iterator(cache))
            if (e.path().extension() == ext && e.path().filename().string()[0] == 'k') out.push_back(e.path());
        std::sort(out.begin(), out.end());
        return out;
    }
    fs::path runtime(const std::string& ext) const {
        for (const auto& e : fs::directory_iterator(cache))
            if (e.path().extension() == ext && e.path().filename().string().rfind("halide_runtime_", 0) == 0) return e.path();
        FAIL("no Halide runtime in the cache");
        return {};
    }
    // Every record in the cache matches its file, by coreutils' sha256sum.
    void check_records() const {
        CommandResult r = run_shell("cd '" + cache.string() + "' && sha256sum --check --strict --quiet *.sha256");
        INFO(r.output);
        CHECK(r.status == 0);
    }
};

// The temporaries ("<file>.tmp<pid>") under `dir`.
std::vector<std::string> temporaries(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.path().filename().string().find(".tmp") != std::string::npos) out.push_back(e.path().string());
    return out;
}

}  // namespace

TEST_CASE("kernel cache: truncated and bit-flipped kernels are found by their checksum and compiled again", "[kcache][cli]") {
    WarmCache w;
    w.check_records();
    std::vector<fs::path> so = w.kernels(".so");
    REQUIRE(so.size() >= 4);

    // Every kernel's shared object and the runtime's truncated to 25, 50 or 75 %.
    std::vector<fs::path> cut = so;
    cut.push_back(w.runtime(".so"));
    std::vector<std::string> originals;
    for (size_t i = 0; i < cut.size(); ++i) {
        originals.push_back(read_bytes(cut[i]));
        fs::resize_file(cut[i], originals[i].size() * (25 + 25 * (i % 3)) / 100);
    }
    CommandResult t = w.run("truncated");
    INFO(t.output);
    REQUIRE(t.status == 0);
    for (size_t i = 0; i < cut.size(); ++i) {
        CHECK_THAT(t.output, Catch::Contains(cut[i].string() + " does not match its checksum"));
        CHECK(read_bytes(cut[i]) == originals[i]);  // compiled again: the same file as before
    }
    check_close(w.clean, w.losses_of("truncated"), 0);
    w.check_records();

    // 20 single-bit flips in the kernels' code (.text), one per kernel and run: each is found.
    int flipped = 0;
    for (int round = 0; flipped < 20; ++round) {
        std::vector<fs::path> hit;
        for (size_t k = 0; k < so.size() && flipped < 20; ++k, ++flipped) {
            std::string bytes = read_bytes(so[k]);
            auto [at, size] = text_section(bytes);
            REQUIRE(size > 0);
            size_t pos = at + (static_cast<size_t>(flipped) * 7919 + 13) % size;
            bytes[pos] = static_cast<char>(bytes[pos] ^ (1 << (flipped % 8)));
            write_bytes(so[k], bytes);
            hit.push_back(so[k]);
        }
        std::string out = "flips" + std::to_string(round);
        CommandResult f = w.run(out);
        INFO(f.output);
        REQUIRE(f.status == 0);
        for (size_t k = 0; k < hit.size(); ++k) {
            CHECK_THAT(f.output, Catch::Contains(hit[k].string() + " does not match its checksum"));
            CHECK(read_bytes(hit[k]) == originals[k]);
        }
        check_close(w.clean, w.losses_of(out), 0);
    }
    w.check_records();
}

TEST_CASE("kernel cache: a corrupt object without its shared object, a directory in a shared object's place, dead temporaries",
          "[kcache][cli]") {
    WarmCache w;
    std::vector<fs::path> so = w.kernels(".so");
    REQUIRE(so.size() >= 2);
    // Kernel A: its shared object gone, one bit of its object flipped.
    fs::path a_so = so[0], a_o = fs::path(so[0]).replace_extension(".o");
    fs::remove(a_so);
    std::string obj = read_bytes(a_o);
    obj[obj.size() / 2] = static_cast<char>(obj[obj.size() / 2] ^ 4);
    write_bytes(a_o, obj);
    // Kernel B: a non-empty directory where its shared object belongs (nobody's to delete).
    fs::path b_so = so[1];
    fs::remove(b_so);
    fs::create_directory(b_so);
    std::ofstream(b_so / "keep") << "x";
    // A temporary of a process that is gone (the shell that printed its pid), and one of a live
    // process (this one), which may still be writing it.
    CommandResult sh = run_shell("echo $$");
    std::string dead_pid = sh.output.substr(0, sh.output.find('\n'));
    fs::path dead = w.cache / ("k0123456789abcdef.o.tmp" + dead_pid), live = w.cache / ("k0123456789abcdef.o.tmp" + std::to_string(getpid()));
    std::ofstream(dead) << "half an object";
    std::ofstream(live) << "half an object";

    CommandResult r = w.run("damaged");
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains(a_o.string() + " does not match its checksum"));
    CHECK_THAT(r.output, Catch::Contains("cannot write " + b_so.string()));
    CHECK_THAT(r.output, Catch::Contains("is compiled in memory for this run"));
    // The rest of the cache still works: the other kernels load from it.
    CHECK_THAT(r.output, !Catch::Contains("does not work"));
    CHECK_THAT(r.output, Catch::Contains(std::to_string(so.size() - 2) + " from the cache"));
    check_close(w.clean, w.losses_of("damaged"), 1e-6);  // B ran JIT-compiled
    CHECK(fs::is_regular_file(a_so));
    CHECK(fs::is_regular_file(b_so / "keep"));
    CHECK(!fs::exists(dead));
    CHECK(fs::exists(live));
    fs::remove(live);
    w.check_records();
}

TEST_CASE("kernel cache: a disk that fills up costs no run, leaves no temporaries", "[kcache][cli]") {
    if (geteuid() != 0) skip("mounting a small tmpfs needs root");
    WarmCache w;
    auto pages = [](const fs::path& p) { return (fs::file_size(p) + 4095) / 4096 * 4096; };
    const uint64_t runtime_o = fs::file_size(w.runtime(".o"));
    uint64_t runtime_bytes = pages(w.runtime(".o")) + pages(w.runtime(".so")) + 2 * 4096, objects = 0, shared = 0;
    for (const auto& p : w.kernels(".o")) objects += pages(p) + 4096;
    for (const auto& p : w.kernels(".so")) shared += pages(p) + 4096;

    fs::path full = w.dir / "full";
    fs::create_directory(full);
    struct Unmount {
        fs::path p;
        bool mounted = false;
        ~Unmount() {
            if (mounted) run_shell("umount '" + p.string() + "'");
        }
    } unmount{full};
    auto mount = [&](uint64_t bytes) {
        if (unmount.mounted) REQUIRE(run_shell("umount '" + full.string() + "'").status == 0);
        unmount.mounted = false;
        CommandResult m = run_shell(fmt::format("mount -t tmpfs -o size={}k tmpfs '{}'", bytes / 1024, full.string()));
        if (m.status != 0) skip("cannot mount a tmpfs here: " + m.output);
        unmount.mounted = true;
    };

    // Room for nothing but the start of Halide's runtime: LLVM fails to write it (in a child
    // process), and every kernel is compiled in memory.
    const uint64_t small = engine::ObjectCache::kMinFree + 16 * 1024;
    REQUIRE(runtime_o > small);
    mount(small);
    CommandResult a = w.run("full_a", full);
    INFO(a.output);
    CHECK(a.status == 0);
    CHECK_THAT(a.output, Catch::Contains("warning: the kernel cache in " + full.string() + " does not work"));
    CHECK_THAT(a.output, Catch::Contains("No space left on device"));
    CHECK(temporaries(full).empty());
    check_close(w.clean, w.losses_of("full_a"), 1e-6);

    // Room for the runtime, every kernel's object and half of their shared objects: the disk fills
    // while kernels are cached; those cached are loaded, the rest compiled in memory.
    mount(runtime_bytes + engine::ObjectCache::kMinFree + objects + shared / 2);
    CommandResult b = w.run("full_b", full);
    INFO(b.output);
    CHECK(b.status == 0);
    CHECK_THAT(b.output, Catch::Contains("warning: "));
    CHECK_THAT(b.output, Catch::Contains(full.string()));
    CHECK_THAT(b.output, !Catch::Contains("does not work"));
    CHECK(temporaries(full).empty());
    check_close(w.clean, w.losses_of("full_b"), 1e-6);
    // What was cached before the disk filled is whole, and a second run loads it.
    CommandResult c = w.run("full_c", full);
    INFO(c.output);
    CHECK(c.status == 0);
    CHECK_THAT(c.output, Catch::Contains("from the cache"));
    CHECK(temporaries(full).empty());
    check_close(w.clean, w.losses_of("full_c"), 1e-6);
    CommandResult sums = run_shell("cd '" + full.string() + "' && sha256sum --check --strict --quiet *.sha256");
    INFO(sums.output);
    CHECK(sums.status == 0);
}
