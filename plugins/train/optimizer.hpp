// The built-in optimizers, registered as extensions (Registry::add_optimizer) with PyTorch's
// update rules: SGD (momentum, dampening-free, nesterov, weight decay), Adam (L2 weight decay)
// and AdamW (decoupled weight decay); and how a training stage's parameters choose and configure
// any registered optimizer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pipeline/layer.hpp"
#include "pipeline/optimizer.hpp"
#include "pipeline/stage.hpp"

namespace pipeline::train {

OptimizerInfo sgd_optimizer();                // sgd.cpp
std::vector<OptimizerInfo> adam_optimizers();  // adam.cpp: adam, adamw

// An optimizer type with checked parameters: what a training run builds its optimizer from.
struct OptimizerChoice {
  OptimizerInfo info;
  Params params;
  std::unique_ptr<Optimizer> create() const { return info.create(params); }
};

// The training stages' optimizer parameters: `optimizer` (a registered name), the shorthands
// momentum, nesterov, weight_decay, betas and eps, and `optimizer_params`.
std::vector<ParamSpec> optimizer_choice_params();
// The optimizer a training stage's parameters choose, from the registry. Each of the optimizer's
// parameters comes from `optimizer_params`, else from the stage's shorthand of that name when set,
// else from its default; a shorthand the optimizer does not take is an error. Problems go to
// `diag`; with a collecting Diagnostics the result may be incomplete.
OptimizerChoice choose_optimizer(const Params& training, Diagnostics& diag);
// A built-in optimizer with parameters given as a map (unset ones at their defaults), for code
// that trains without the registry: tests and benchmarks.
OptimizerChoice builtin_optimizer(const std::string& name, const Value& params = Value::map());

// Scales all gradients so their global L2 norm is at most max_norm; returns the norm before.
double clip_grad_norm(const std::vector<Parameter*>& params, double max_norm);

}  // namespace pipeline::train
