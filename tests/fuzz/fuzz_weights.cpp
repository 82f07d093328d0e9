// libFuzzer target: any bytes as a weights file (rt::read_weights: Keras 2's layer_names layout or
// Keras 3's .weights.h5). HDF5 itself is Debian's uninstrumented library: a memory error inside
// it shows up only as a crash, not as an ASan report.
#include "FuzzInput.h"
#include "io/Weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace cnnc;
    std::string path = fuzz::write_input("input.weights.h5", data, size);
    fuzz::expect_success_or_user_error([&] { rt::read_weights(path); });
    return 0;
}
