// Replacing a file so that a crash, a full disk or Ctrl-C mid-write never leaves a half-written
// file where a good one was: checkpoints, weights and metric logs are written this way.
#pragma once
#include <string>
#include <vector>

namespace cnnc::rt {

// Several files that belong together (a training's weights, history and plots) replaced as one:
// each is written to a temporary file beside its target; commit() makes them durable and renames
// them all only after every one was written. An error before commit() (a full disk) leaves every
// old file as it was, and the destructor removes the temporary files.
class StagedFiles {
  public:
    StagedFiles() = default;
    ~StagedFiles();
    StagedFiles(const StagedFiles&) = delete;
    StagedFiles& operator=(const StagedFiles&) = delete;
    // A new, empty temporary file beside `target` (missing directories created) for the caller to
    // write by name, e.g. with HDF5; it replaces `target` at commit().
    std::string stage(const std::string& target);
    // stage() and `contents` written to it.
    void stage_contents(const std::string& target, const std::string& contents);
    // Removes `target` at commit(): an old output this set no longer includes (a stale plot).
    void remove_at_commit(const std::string& target);
    // fsyncs every staged file, then renames each over its target. Throws UserError naming the
    // target that failed; files not yet renamed stay as they were.
    void commit();

  private:
    struct Entry {
        std::string target, temp;
    };
    std::vector<Entry> staged_;
    std::vector<std::string> removed_;
};

// Creates missing parent directories, writes `contents` to a temporary file in the target's
// directory (a rename is only atomic within one file system), fsyncs it and renames it over `path`.
// An existing file's permissions are kept. Throws UserError naming `path` on failure, leaving the
// old file (if any) untouched and no temporary file behind.
void write_file_atomically(const std::string& path, const std::string& contents);

// Creates `dir` when missing and proves that a file can be created and written in it (then
// removes it), so that a run finds an unwritable output directory before it trains, not after.
// Throws UserError naming `what` (the option that chose it) and the directory.
void check_writable_directory(const std::string& dir, const std::string& what);

}  // namespace cnnc::rt
