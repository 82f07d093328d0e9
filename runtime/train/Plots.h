// The seed's two figures after training — training vs validation accuracy, and training vs
// validation loss, per epoch — drawn by gnuplot (Debian's gnuplot-nox) as PNG and SVG beside the
// history CSV.
#pragma once
#include <string>
#include <vector>

#include "train/History.h"

namespace cnnc::rt {

// Writes <stem>_loss.{png,svg} and, when an accuracy metric was reported, <stem>_accuracy.{png,svg}.
// Returns the files written. Plots are a convenience: without gnuplot it returns nothing and
// says why in `why_not`; a training run never fails for want of a picture.
std::vector<std::string> write_plots(const History& h, const std::string& stem, const std::string& title, std::string* why_not = nullptr);

}  // namespace cnnc::rt
