#include "diag/Source.h"

namespace cnnc {

std::string_view SourceFile::line(int n) const {
    if (n < 1 || static_cast<size_t>(n) > line_starts.size()) return {};
    size_t begin = line_starts[static_cast<size_t>(n - 1)];
    size_t end = static_cast<size_t>(n) < line_starts.size() ? line_starts[static_cast<size_t>(n)] - 1 : text.size();
    std::string_view v(text.data() + begin, end - begin);
    if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    return v;
}

int SourceManager::add(std::string path, std::string text) {
    SourceFile f;
    f.path = std::move(path);
    f.text = std::move(text);
    f.line_starts.push_back(0);
    for (size_t i = 0; i < f.text.size(); ++i)
        if (f.text[i] == '\n') f.line_starts.push_back(i + 1);
    files_.push_back(std::move(f));
    return static_cast<int>(files_.size()) - 1;
}

}  // namespace cnnc
