// libFuzzer target: any bytes as a .npy file, read once as the samples and once as the labels of
// load_npy, each paired with a valid file of the other kind.
#include "FuzzInput.h"
#include "data/Npy.h"

namespace {

// One sample of two float32 values, and its uint8 label: the partner of the fuzzed file in each call.
const char kX[] = "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }"
                  "                                                          \n"
                  "\x00\x00\x80\x3f\x00\x00\x00\x40";
const char kY[] = "\x93NUMPY\x01\x00\x76\x00{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }"
                  "                                                            \n"
                  "\x07";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace cnnc;
    static const std::string x = fuzz::write_input("x.npy", kX, sizeof kX - 1);
    static const std::string y = fuzz::write_input("y.npy", kY, sizeof kY - 1);
    std::string input = fuzz::write_input("input.npy", data, size);
    fuzz::expect_success_or_user_error([&] { rt::load_npy(input, y); });
    fuzz::expect_success_or_user_error([&] { rt::load_npy(x, input); });
    return 0;
}
