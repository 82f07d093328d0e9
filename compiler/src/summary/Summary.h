// The Keras-style `summary()` table of a checked model: Keras' Sequential table for a plain stack,
// its functional table (InputLayer rows and a "Connected to" column) for any other graph.
#pragma once
#include <string>
#include <vector>

#include "sema/Program.h"

namespace cnnc {

struct SummaryOptions {
    bool expand = false;  // show the layers inside blocks, indented with "└ "
    bool flops = false;   // add a per-layer FLOPs column
    bool ascii = false;   // Keras 2 style rules for terminals without box-drawing glyphs
};

std::string render_summary(const Model& m, const SummaryOptions& opts = {});

// The names Keras gives a model's inputs, by input index: a named input keeps its name; an
// unnamed `input(...)` is Keras' default `input_layer`, then `input_layer_1`, `input_layer_2`...
std::vector<std::string> input_layer_names(const Model& m);

// Whether the locale (LC_ALL, LC_CTYPE, LANG) is UTF-8, so box-drawing glyphs will show. Unset
// counts as UTF-8 (today's terminals); a plain C or Latin-1 locale does not.
bool locale_is_utf8();

// Helpers also used by other reports.
std::string thousands(int64_t n);           // 991041 → "991,041"
std::string memory_size(double bytes);      // Keras' readable_memory_size: "3.78 MB", "0.00 B"
std::string flops_text(double flops);       // 9401600 → "9.40 M"

}  // namespace cnnc
