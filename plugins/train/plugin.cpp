// The train plugin: training and evaluation of models, and the built-in optimizers.
#include "optimizer.hpp"
#include "pipeline/plugin.hpp"
#include "stages.hpp"

namespace {
void register_train(pipeline::Registry& registry) {
  registry.add_optimizer(pipeline::train::sgd_optimizer());
  for (auto& optimizer : pipeline::train::adam_optimizers()) registry.add_optimizer(std::move(optimizer));
  registry.add_stage(pipeline::train::train_stage());
  registry.add_stage(pipeline::train::evaluate_stage());
}
}  // namespace

PIPELINE_PLUGIN("train", PIPELINE_VERSION_STRING, register_train)
