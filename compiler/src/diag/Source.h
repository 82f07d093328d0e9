// Source files and locations. Every diagnostic points into a file held here, so the renderer can
// show the offending line with a caret under it.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace cnnc {

// A place in a source file: 1-based line and column, and the length of the text it covers (for
// the ^~~~ underline). file < 0 means "no location" (e.g. a command-line problem).
struct SrcLoc {
    int file = -1;
    int line = 0;
    int col = 0;
    int len = 1;
    bool valid() const { return file >= 0; }
};

struct SourceFile {
    std::string path;  // as the user gave it (for messages)
    std::string text;
    std::vector<size_t> line_starts;
    std::string_view line(int n) const;  // 1-based, without the newline
};

class SourceManager {
  public:
    // Registers text read from `path`; returns the file id used in SrcLoc.
    int add(std::string path, std::string text);
    const SourceFile& file(int id) const { return files_[static_cast<size_t>(id)]; }
    int count() const { return static_cast<int>(files_.size()); }

  private:
    std::deque<SourceFile> files_;  // deque: references stay valid as files are added
};

}  // namespace cnnc
