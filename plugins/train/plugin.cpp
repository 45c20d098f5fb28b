// The train plugin: training and evaluation of models.
#include "pipeline/plugin.hpp"
#include "stages.hpp"

namespace {
void register_train(pipeline::Registry& registry) {
  registry.add_stage(pipeline::train::train_stage());
  registry.add_stage(pipeline::train::evaluate_stage());
}
}  // namespace

PIPELINE_PLUGIN("train", PIPELINE_VERSION_STRING, register_train)
