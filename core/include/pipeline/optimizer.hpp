// Optimizers are registered extensions (Registry::add_optimizer): the train and finetune stages
// take `optimizer: NAME` and build it from the registry, so a plugin can add an update rule
// without touching them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/layer.hpp"
#include "pipeline/params.hpp"

namespace pipeline {

class Diagnostics;

class Optimizer {
 public:
  virtual ~Optimizer();
  // Registers a parameter with its learning-rate scale (discriminative rates); only parameters
  // that are trainable and not buffers when step() runs are updated.
  virtual void add(Parameter* parameter, double lr_scale) = 0;
  // One update of every registered parameter from its gradient, at learning rate lr.
  virtual void step(double lr) = 0;
};

struct OptimizerInfo {
  std::string name;  // as written in `optimizer:`
  std::string doc;   // one line
  // The optimizer's own parameters. A training stage fills each from its `optimizer_params` map,
  // else from its own parameter of the same name when the user set one (momentum, betas, ...),
  // else from this default.
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<Optimizer>(const Params&)> create;
  // Optional checks across parameters, run during validation (e.g. nesterov needs momentum).
  std::function<void(const Params&, Diagnostics&)> check;
};

// The optimizers every loaded plugin registered.
const OptimizerInfo* find_optimizer(const std::string& name);
std::vector<std::string> optimizer_names();

}  // namespace pipeline
