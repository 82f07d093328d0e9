// What the language knows, for people: `cnnc list KIND` and `cnnc layers [NAME]` print the entries
// of the checker's own lists (layers/LayerList.def and builtins/), each with its arguments and
// defaults, so what is listed is exactly what a file may use.
#pragma once
#include <string>
#include <vector>

namespace cnnc::app {

// The kinds `cnnc list` takes: layers, activations, initializers, regularizers, optimizers,
// losses, metrics, callbacks, sources.
std::vector<std::string> catalog_kinds();
// Every name of every kind (for completion and suggestions).
std::vector<std::string> catalog_names();
// Prints every entry of `kind` with its arguments and defaults; 2 for an unknown kind.
int print_kind(const std::string& kind);
// Prints one entry, of whichever kind has it (a layer, an optimizer, a callback...), with its
// arguments, defaults and their meaning; 1 when no list has it.
int print_entry(const std::string& name);

}  // namespace cnnc::app
