// The metrics of every finished epoch, kept for the end-of-training report and written as CSV
// (the columns Keras' CSVLogger writes) so a run can be plotted or compared with another.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "train/Progress.h"

namespace cnnc::rt {

class History {
  public:
    // `epoch` is 1-based, as shown to the user. Epochs are kept in the order added.
    void add(int epoch, const Metrics& m);
    const std::vector<std::pair<int, Metrics>>& epochs() const { return epochs_; }

    // Header "epoch,<metric names in first-seen order>", then one row per epoch. Values are the
    // shortest text that reads back as the same double, so nothing is lost; a metric an epoch
    // lacks (validation on some epochs only, say) is an empty cell.
    std::string csv() const;
    // csv() to `path` via write_file_atomically, so an interrupted run keeps the previous file.
    void write_csv(const std::string& path) const;

  private:
    std::vector<std::pair<int, Metrics>> epochs_;
};

}  // namespace cnnc::rt
