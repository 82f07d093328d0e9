// The checksum the kernel cache records beside each file it writes (SHA-256, sha256sum's form), so a
// truncated or bit-flipped file is found before it is linked or loaded (Aot.h). Computed by
// OpenSSL's libcrypto (Debian's libssl-dev); cnnc links it, `cnnc build` executables do not (they
// have no cache).
#pragma once
#include <string>

namespace cnnc::engine {

// The SHA-256 of a file's contents as 64 lowercase hex digits; throws std::runtime_error when it
// cannot be read.
std::string sha256_of_file(const std::string& path);

}  // namespace cnnc::engine
