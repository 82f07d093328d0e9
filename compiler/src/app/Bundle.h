// What `cnnc build` compiles into an executable besides the libraries: its kernels (one function
// per target variant), the model file and its imports, and where they came from. The generated
// entry point (driver/Executable.cpp writes it) defines one Bundle and calls exe_main. Plain data,
// no other headers: the generated file includes only this.
#pragma once
#include <cstdint>

namespace cnnc::app {

using KernelFn = int (*)(void**);  // Halide's argv entry point

struct BundledKernel {
    const char* key;         // the KernelSpec's key
    const KernelFn* fns;     // one per variant, in Bundle::variant_names' order
};

struct BundledFile {
    const char* path;
    const char* text;
    unsigned long size;
};

struct Bundle {
    int format;  // kBundleFormat: an entry point from another cnnc version is refused
    const char* cnnc_version;
    const char* model_file;  // the absolute path the model was built from
    int n_variants;
    const char* const* variant_names;     // best first: "host", "avx2", "sse41"
    const char* const* variant_schedules; // per variant: "tuned on <CPU> (...)" or "default (portable)"
    const uint64_t* variant_features;     // n_variants x feature_words: Halide target feature bits
    int feature_words;
    int n_kernels;
    const BundledKernel* kernels;
    int n_files;
    const BundledFile* files;  // the model file first, then its imports
    int n_import_dirs;
    const char* const* import_dirs;
};

constexpr int kBundleFormat = 2;

int exe_main(int argc, char** argv, const Bundle& b);

}  // namespace cnnc::app
