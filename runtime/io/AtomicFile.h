// Replacing a file so that a crash, a full disk or Ctrl-C mid-write never leaves a half-written
// file where a good one was: checkpoints, weights and metric logs are written this way.
#pragma once
#include <string>

namespace cnnc::rt {

// Creates missing parent directories, writes `contents` to a temporary file in the target's
// directory (a rename is only atomic within one file system), fsyncs it and renames it over `path`.
// An existing file's permissions are kept. Throws UserError naming `path` on failure, leaving the
// old file (if any) untouched and no temporary file behind.
void write_file_atomically(const std::string& path, const std::string& contents);

}  // namespace cnnc::rt
