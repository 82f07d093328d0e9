// libFuzzer target: any bytes as a training state file (StateFile::load, which --resume reads).
#include "FuzzInput.h"
#include "io/StateFile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace cnnc;
    std::string path = fuzz::write_input("input.state", data, size);
    fuzz::expect_success_or_user_error([&] { rt::StateFile::load(path); });
    return 0;
}
