// libFuzzer target: any bytes as a CSV file, read with options taken from the input's first bytes
// (header or not, the delimiter, the label column by name or by position, a feature shape).
#include <fuzzer/FuzzedDataProvider.h>

#include "FuzzInput.h"
#include "data/Table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace cnnc;
    FuzzedDataProvider in(data, size);
    rt::CsvOptions o;
    o.header = in.ConsumeBool();
    o.delimiter = in.PickValueInArray({',', ';', '\t', ' ', '|'});
    if (in.ConsumeBool()) o.label_name = in.PickValueInArray({"label", "y", "class"});
    else o.label_index = in.ConsumeIntegralInRange<int64_t>(-4, 4);
    if (in.ConsumeBool()) o.shape = {in.ConsumeIntegralInRange<int64_t>(1, 8), in.ConsumeIntegralInRange<int64_t>(1, 2)};
    std::string text = in.ConsumeRemainingBytesAsString();
    std::string path = fuzz::write_input("input.csv", text.data(), text.size());
    fuzz::expect_success_or_user_error([&] { rt::load_csv(path, o); });
    return 0;
}
