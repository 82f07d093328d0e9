// write_file_atomically on real files in a temp directory.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "Error.h"
#include "ReadOnlyDir.h"
#include "TempDir.h"
#include "io/AtomicFile.h"

using namespace cnnc::rt;
using cnnc::test::read_bytes;
using cnnc::test::ReadOnlyDir;
using cnnc::test::TempDir;
using cnnc::test::write_bytes;

TEST_CASE("AtomicFile: writes a new file and replaces an existing one", "[atomicfile]") {
    TempDir dir;
    write_file_atomically(dir / "out.csv", "first\n");
    CHECK(read_bytes(dir / "out.csv") == "first\n");
    write_file_atomically(dir / "out.csv", "2nd");  // shorter: no tail of the old contents may remain
    CHECK(read_bytes(dir / "out.csv") == "2nd");
    std::string big(3 << 20, 'x');
    big[12345] = '\0';  // binary-safe
    write_file_atomically(dir / "out.csv", big);
    CHECK(read_bytes(dir / "out.csv") == big);
    write_file_atomically(dir / "out.csv", "");
    CHECK(read_bytes(dir / "out.csv").empty());
    CHECK(dir.entries() == std::vector<std::string>{"out.csv"});  // no temporary files left behind
}

TEST_CASE("AtomicFile: creates missing parent directories", "[atomicfile]") {
    TempDir dir;
    write_file_atomically(dir / "runs/mnist/1/history.csv", "epoch\n");
    CHECK(read_bytes(dir / "runs/mnist/1/history.csv") == "epoch\n");
    CHECK(dir.entries() == std::vector<std::string>{"runs"});
}

TEST_CASE("AtomicFile: keeps an existing file's permissions", "[atomicfile]") {
    TempDir dir;
    write_bytes(dir / "weights", "old");
    REQUIRE(::chmod((dir / "weights").c_str(), 0640) == 0);
    write_file_atomically(dir / "weights", "new");
    struct stat st;
    REQUIRE(::stat((dir / "weights").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
}

TEST_CASE("AtomicFile: failures name the path and leave nothing behind", "[atomicfile]") {
    TempDir dir;
    write_bytes(dir / "file", "keep me");

    SECTION("a parent that is a regular file") {
        std::string path = dir / "file/out.csv";
        try {
            write_file_atomically(path, "x");
            FAIL("no error");
        } catch (const UserError& e) {
            std::string msg = e.what();
            CHECK(msg.rfind(path + ": cannot create directory " + dir / "file" + ": ", 0) == 0);
        }
        CHECK(read_bytes(dir / "file") == "keep me");
    }
    SECTION("a target that is a directory") {
        std::string path = dir / "sub";
        write_file_atomically(dir / "sub/inner", "x");
        try {
            write_file_atomically(path, "x");
            FAIL("no error");
        } catch (const UserError& e) {
            CHECK(std::string(e.what()) == path + ": cannot replace it: Is a directory");
        }
        CHECK(dir.entries() == std::vector<std::string>{"file", "sub"});  // no temporary file next to it
        CHECK(read_bytes(dir / "sub/inner") == "x");
    }
    SECTION("a directory that cannot be written") {
        std::string path = dir / "ro/old";
        ReadOnlyDir ro(dir / "ro", [&] { write_file_atomically(path, "old"); });
        try {
            write_file_atomically(path, "new");
            FAIL("no error");
        } catch (const UserError& e) {
            CHECK(std::string(e.what()) == path + ": cannot create a file in " + dir / "ro" + ": " + ro.reason());
        }
        CHECK(read_bytes(path) == "old");
    }
}
