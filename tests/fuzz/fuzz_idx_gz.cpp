// libFuzzer target: any bytes as the *content* of a gzipped IDX file (the target compresses them),
// so the fuzzer explores IDX headers and sizes behind the gzip path: a header promising more than
// the stream holds, a small file that inflates to a huge one. Damaged gzip streams themselves are
// fuzz_idx's (its corpus holds .gz files).
#include <zlib.h>

#include "FuzzInput.h"
#include "data/Idx.h"

namespace {

const unsigned char kImages[] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4};
const unsigned char kLabels[] = {0, 0, 8, 1, 0, 0, 0, 1, 7};

std::string write_gzip(const std::string& name, const uint8_t* data, size_t size) {
    std::string path = cnnc::fuzz::scratch_dir() + "/" + name;
    gzFile f = gzopen(path.c_str(), "wb1");
    if (!f || (size && gzwrite(f, data, static_cast<unsigned>(size)) != static_cast<int>(size)) || gzclose(f) != Z_OK) std::abort();
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace cnnc;
    static const std::string images = fuzz::write_input("images-idx3-ubyte", kImages, sizeof kImages);
    static const std::string labels = fuzz::write_input("labels-idx1-ubyte", kLabels, sizeof kLabels);
    std::string input = write_gzip("input-idx-ubyte.gz", data, size);
    fuzz::expect_success_or_user_error([&] { rt::load_idx(input, labels); });
    fuzz::expect_success_or_user_error([&] { rt::load_idx(images, input); });
    return 0;
}
