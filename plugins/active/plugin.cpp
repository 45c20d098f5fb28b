// The active plugin: pool-based active learning. A round is a training stage on the labelled
// set, then active_select, which scores the pool with the trained model and moves a batch, with
// its labels, from the pool to the labelled set; repeat groups write the rounds once.
#include "active_stages.hpp"
#include "pipeline/plugin.hpp"

namespace {
void register_active(pipeline::Registry& registry) {
  registry.add_stage(pipeline::active::active_split_stage());
  registry.add_stage(pipeline::active::active_select_stage());
}
}  // namespace

PIPELINE_PLUGIN("active", PIPELINE_VERSION_STRING, register_active)
