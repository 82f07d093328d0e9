// Weights files that crash Debian's HDF5 (1.10.8) itself: cnnc reads each file in a child process
// first, so the crash is a clear error naming the file, not a signal that takes cnnc down.
#include <string>

#include "Error.h"
#include "Helpers.h"
#include "io/Weights.h"

using namespace cnnc;
using namespace cnnc::test;

TEST_CASE("weights: a file that crashes HDF5 is a clear error, and cnnc lives on", "[weights][faults]") {
    // The weights fuzzer's find: a group whose local heap is corrupt; HDF5 copies to a null pointer
    // in H5Lexists (a plain C program that opens it with Debian's libhdf5 dies of SIGSEGV).
    const std::string path = root() + "/tests/fuzz/regressions/weights/hdf5_corrupt_local_heap_null_pointer";
    try {
        rt::read_weights(path);
        FAIL("the file was read");
    } catch (const rt::UserError& e) {
        CHECK(std::string(e.what()) == path + ": corrupt HDF5 file (the HDF5 library crashed reading it: Segmentation fault)");
    }
    // This process lives on: the same reader still reads a good file.
    CHECK_NOTHROW(rt::read_weights(root() + "/tests/fuzz/corpus/weights/keras2.h5"));
}
