// Optimizers with Keras 3's update rules and defaults. State (moments, step count, learning rate)
// is exposed so checkpoints can save and restore it exactly.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/Op.h"

namespace cnnc::rt {

struct OptimizerSpec {
    std::string name;                     // sgd, rmsprop, adam, adamw
    std::map<std::string, double> args;   // learning_rate, rho, beta_1... (absent optional ones: not set)
    double get(const std::string& k, double def) const {
        auto it = args.find(k);
        return it == args.end() ? def : it->second;
    }
};

class Optimizer {
  public:
    explicit Optimizer(OptimizerSpec spec);
    // Applies one update to every trainable param from its grad (regularizer penalties included).
    void step(const std::vector<Param*>& params);
    double learning_rate = 0.001;
    int64_t iterations = 0;
    // Per-param slots: [param index][slot] (momentum, velocity...).
    std::vector<std::vector<Tensor>> slots;
    const OptimizerSpec& spec() const { return spec_; }

  private:
    void clip(const std::vector<Param*>& params);
    OptimizerSpec spec_;
};

}  // namespace cnnc::rt
