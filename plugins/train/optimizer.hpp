// Optimizers with PyTorch's update rules: SGD (momentum, dampening-free, nesterov, weight decay),
// Adam (L2 weight decay) and AdamW (decoupled weight decay). Per-parameter learning-rate scales
// serve discriminative rates.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pipeline/layer.hpp"

namespace pipeline::train {

struct OptimizerOptions {
  std::string kind = "sgd";  // sgd, adam, adamw
  double momentum = 0, weight_decay = 0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

class Optimizer {
 public:
  explicit Optimizer(OptimizerOptions options) : o_(std::move(options)) {}
  // Registers a parameter; only trainable ones are updated.
  void add(Parameter* p, double lr_scale = 1.0);
  // One update of every trainable parameter from its gradient, at learning rate lr.
  void step(double lr);
  std::int64_t steps() const { return t_; }

 private:
  struct Slot {
    Parameter* param;
    double lr_scale;
    std::vector<float> m, v;  // momentum buffer / first moment, and second moment
    bool started = false;
  };
  OptimizerOptions o_;
  std::vector<Slot> slots_;
  std::int64_t t_ = 0;
};

// Scales all gradients so their global L2 norm is at most max_norm; returns the norm before.
double clip_grad_norm(const std::vector<Parameter*>& params, double max_norm);

}  // namespace pipeline::train
