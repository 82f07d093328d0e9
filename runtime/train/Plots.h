// The seed's two figures after training — training vs validation accuracy, and training vs
// validation loss, per epoch — drawn by gnuplot (Debian's gnuplot-nox) as PNG and SVG beside the
// history CSV.
#pragma once
#include <string>
#include <vector>

#include "io/AtomicFile.h"
#include "train/History.h"

namespace cnnc::rt {

// Draws <stem>_loss.{png,svg} and, when an accuracy metric was reported, <stem>_accuracy.{png,svg},
// and stages them in `batch` (they appear with the training's other outputs at its commit).
// Returns the files staged. Plots are a convenience: without gnuplot, or when it fails, it
// returns nothing, says why in `why_not`, and removes the stem's old plots at the commit, so that
// no plot of an earlier run stays beside the new history. gnuplot runs in a private temporary
// directory on fixed file names; the title reaches it as an argument, never as script text.
std::vector<std::string> write_plots(const History& h, const std::string& stem, const std::string& title, StagedFiles& batch,
                                     std::string* why_not = nullptr);

}  // namespace cnnc::rt
