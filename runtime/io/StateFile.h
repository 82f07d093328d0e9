// A training run's full state — weights, optimizer slots, step and epoch counters, learning rate,
// callback counters, history — as named scalars, tensors and texts in one binary file, written
// atomically after every epoch so `cnnc run --resume` continues an interrupted run exactly.
#pragma once
#include <map>
#include <string>

#include "tensor/Tensor.h"

namespace cnnc::rt {

class StateFile {
  public:
    void put(const std::string& name, double v) { scalars_[name] = v; }
    void put(const std::string& name, const Tensor& t) { tensors_[name] = t; }
    void put_text(const std::string& name, const std::string& s) { texts_[name] = s; }
    bool has(const std::string& name) const { return scalars_.count(name) || tensors_.count(name) || texts_.count(name); }
    double scalar(const std::string& name) const;
    const Tensor& tensor(const std::string& name) const;
    const std::string& text(const std::string& name) const;

    void save(const std::string& path) const;  // atomically
    // Errors name the file (missing, truncated, not a state file).
    static StateFile load(const std::string& path);

  private:
    std::map<std::string, double> scalars_;
    std::map<std::string, Tensor> tensors_;
    std::map<std::string, std::string> texts_;
    std::string path_;  // where it was loaded from, for messages
};

}  // namespace cnnc::rt
