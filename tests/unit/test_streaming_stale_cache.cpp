// A disk cache's temporary file left by a killed run (SIGKILL: no destructor removes it) is removed
// by the next run that opens the cache; a temporary file whose writer may still be at it (its pid
// runs here, or another process holds its lock, as a writer on another machine would) stays.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "Helpers.h"
#include "TempDir.h"
#include "data/ImageCache.h"

using namespace cnnc;
namespace fs = std::filesystem;

namespace {

// The temporary files beside cache `target`, by name.
std::vector<std::string> temporaries(const fs::path& target) {
    std::vector<std::string> v;
    const std::string prefix = "." + target.filename().string() + ".tmp.";
    for (const auto& e : fs::directory_iterator(target.parent_path()))
        if (e.path().filename().string().rfind(prefix, 0) == 0) v.push_back(e.path().filename().string());
    std::sort(v.begin(), v.end());
    return v;
}

// A pid no process has: a child that has exited and been reaped.
pid_t gone_pid() {
    pid_t p = ::fork();
    if (p == 0) ::_exit(0);
    ::waitpid(p, nullptr, 0);
    return p;
}

}  // namespace

TEST_CASE("a disk cache's temporary file left by a killed run is removed by the next, a live writer's stays", "[data][stream][cache]") {
    test::TempDir dir;
    const fs::path target = fs::path(dir.path()) / "pets.bin";
    rt::ImageFolderOptions o;
    o.height = o.width = 2, o.channels = 1;
    const std::vector<std::string> files = {dir.path() + "/a.png", dir.path() + "/b.png"};  // the key stats them: absent is fine
    const uint8_t px[4] = {1, 2, 3, 4};

    // A run killed while writing: one image in, then SIGKILL, before any destructor runs.
    pid_t child = ::fork();
    if (child == 0) {
        rt::DiskImageCache c(target.string(), files, o);
        c.put(0, px);
        ::kill(::getpid(), SIGKILL);
        ::_exit(1);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    const std::vector<std::string> killed = temporaries(target);
    REQUIRE(killed.size() == 1);
    CHECK_THAT(killed[0], Catch::StartsWith(".pets.bin.tmp." + std::to_string(child) + "."));
    CHECK_FALSE(fs::exists(target));

    // Two that must stay: a temporary of a process that runs (this one), and one of a gone pid
    // whose lock another open file holds (a writer on another machine sharing the folder).
    const std::string live = ".pets.bin.tmp." + std::to_string(::getpid()) + ".999";
    const std::string held = ".pets.bin.tmp." + std::to_string(gone_pid()) + ".0";
    std::ofstream(target.parent_path() / live) << "x";
    std::ofstream(target.parent_path() / held) << "x";
    int lock = ::open((target.parent_path() / held).c_str(), O_RDONLY);
    REQUIRE(lock >= 0);
    REQUIRE(::flock(lock, LOCK_EX | LOCK_NB) == 0);

    {
        std::string said;
        auto cache = rt::open_image_cache(target.string(), files, o, "d.train", said);
        CHECK_THAT(said, Catch::Contains("removed 1 temporary file of a stopped run"));
        std::vector<std::string> now = temporaries(target);  // the two kept and this run's own
        CHECK(std::count(now.begin(), now.end(), killed[0]) == 0);
        CHECK(std::count(now.begin(), now.end(), live) == 1);
        CHECK(std::count(now.begin(), now.end(), held) == 1);
        CHECK(now.size() == 3);
        cache->put(0, px), cache->put(1, px);  // complete: it replaces the target
    }
    CHECK(fs::exists(target));
    ::close(lock);  // the "other machine's" writer is gone too: the next open removes its file
    CHECK(rt::remove_stale_temporaries(target.string()) == 1);
    CHECK(temporaries(target) == std::vector<std::string>{live});
}
