// SHA-256 (FIPS 180-4): the checksum the kernel cache records beside each file it writes, so a
// truncated or bit-flipped file is found before it is linked or loaded (Aot.h). Written out here
// rather than taken from a crypto library: the cache needs nothing else from one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace cnnc::engine {

class Sha256 {
  public:
    Sha256();
    void update(const void* data, size_t n);
    // The digest as 64 lowercase hex digits (sha256sum's form); the object is spent afterwards.
    std::string hex();

  private:
    void block(const unsigned char* p);
    uint32_t h_[8];
    unsigned char buf_[64];
    size_t used_ = 0;
    uint64_t bytes_ = 0;
};

// The SHA-256 of a file's contents; throws std::runtime_error when it cannot be read.
std::string sha256_of_file(const std::string& path);

}  // namespace cnnc::engine
