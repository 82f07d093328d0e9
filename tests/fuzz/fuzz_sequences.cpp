// libFuzzer target: any bytes as a sequence file (a label, then token ids, per line), read with
// options taken from the input's first bytes (length, vocabulary limit, padding and truncation).
#include <fuzzer/FuzzedDataProvider.h>

#include "FuzzInput.h"
#include "data/Table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace cnnc;
    FuzzedDataProvider in(data, size);
    rt::SequenceOptions o;
    o.max_len = in.ConsumeIntegralInRange<int64_t>(1, 64);
    o.max_features = in.ConsumeIntegralInRange<int64_t>(0, 1000);
    o.pad_post = in.ConsumeBool();
    o.truncate_post = in.ConsumeBool();
    std::string text = in.ConsumeRemainingBytesAsString();
    std::string path = fuzz::write_input("input.txt", text.data(), text.size());
    fuzz::expect_success_or_user_error([&] { rt::load_sequences(path, o); });
    return 0;
}
