// Issue 9, items 19 and 23: the training state reader on hostile bytes. Every declared size is
// checked against the bytes left without overflowing; NaN values are refused, naming the entry.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "Error.h"
#include "Helpers.h"
#include "TempDir.h"
#include "io/StateFile.h"

using namespace cnnc;
using namespace cnnc::test;

namespace {

template <class T>
void raw(std::string& out, T v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// A state file holding one tensor record 'w' with the given dimensions and `floats` values.
std::string tensor_record(const std::vector<uint64_t>& dims, size_t floats) {
    std::string s = "CNNCSTATE1\n";
    s += 'T';
    raw<uint64_t>(s, 1);
    s += 'w';
    raw<uint64_t>(s, dims.size());
    for (uint64_t d : dims) raw(s, d);
    for (size_t i = 0; i < floats; ++i) raw(s, 1.5f);
    return s;
}

std::string load_error(const std::string& bytes) {
    TempDir dir;
    write_bytes(dir / "s.state", bytes);
    try {
        rt::StateFile::load(dir / "s.state");
    } catch (const rt::UserError& e) {
        std::string msg = e.what();
        return msg.substr(msg.find("s.state"));
    }
    return "no error";
}

}  // namespace

TEST_CASE("faults: StateFile::load refuses impossible sizes without overflow", "[faults][statefile]") {
    CHECK(load_error(tensor_record({2, 3}, 6)) == "no error");
    CHECK(load_error(tensor_record({uint64_t(-1)}, 4)) == "s.state: corrupt training state file ('w' has a negative dimension)");
    CHECK(load_error(tensor_record({uint64_t(-2), uint64_t(-2)}, 4)) == "s.state: corrupt training state file ('w' has a negative dimension)");
    CHECK(load_error(tensor_record({uint64_t(1) << 31, 4}, 4)) ==
          "s.state: truncated training state file ('w' declares more data than the file holds)");
    // 2^62 * 4 * 4 bytes overflows 64 bits to 0: the old check passed it.
    CHECK(load_error(tensor_record({uint64_t(1) << 62, 4}, 0)) ==
          "s.state: truncated training state file ('w' declares more data than the file holds)");
    CHECK(load_error(tensor_record({2, 3}, 5)) == "s.state: truncated training state file");
    CHECK(load_error(tensor_record({0, uint64_t(1) << 62}, 0)) == "no error");  // empty, whatever the other dimension

    std::string name_too_long = "CNNCSTATE1\nS";
    raw<uint64_t>(name_too_long, uint64_t(-8));  // pos + n wraps around
    CHECK(load_error(name_too_long) == "s.state: truncated training state file");
}

TEST_CASE("faults: StateFile::load refuses NaN and infinite weights, naming them", "[faults][statefile]") {
    rt::StateFile f;
    rt::Tensor t({2});
    t[0] = 1;
    t[1] = NAN;
    f.put("param/dense/kernel", t);
    TempDir dir;
    f.save(dir / "s.state");
    CHECK_THROWS_WITH(rt::StateFile::load(dir / "s.state"), Catch::EndsWith("s.state: corrupt training state file ('param/dense/kernel' holds NaN)"));
    t[1] = INFINITY;
    f.put("param/dense/kernel", t);
    f.save(dir / "s.state");
    CHECK_THROWS_WITH(rt::StateFile::load(dir / "s.state"),
                      Catch::EndsWith("s.state: corrupt training state file ('param/dense/kernel' holds an infinite value)"));

    rt::StateFile g;
    g.put("learning_rate", NAN);
    g.put("callback/0/best", INFINITY);  // a callback's best before any epoch: a value
    g.save(dir / "g.state");
    CHECK_THROWS_WITH(rt::StateFile::load(dir / "g.state"), Catch::EndsWith("g.state: corrupt training state file ('learning_rate' is NaN)"));
    rt::StateFile h;
    h.put("callback/0/best", INFINITY);
    h.save(dir / "h.state");
    CHECK(std::isinf(rt::StateFile::load(dir / "h.state").scalar("callback/0/best")));
}
