// The table of a summary, drawn as Keras 3 draws it (rich's box-drawing glyphs, a rule between
// rows) or as Keras 2 did (ASCII rules) for terminals without those glyphs.
#pragma once
#include <string>
#include <vector>

namespace cnnc {

struct Column {
    std::string head;
    size_t width;  // the text width Keras gives the column; a longer cell widens it rather than wrapping
    bool right;    // right-aligned (numbers)
};

// A cell's lines: most cells have one; "Connected to" has one per input tensor.
using Cell = std::vector<std::string>;

std::string render_table(const std::vector<Column>& columns, const std::vector<std::vector<Cell>>& rows, bool ascii);

}  // namespace cnnc
