// The federated plugin: federated averaging (McMahan et al. 2017) as stages. Each client's local
// training is an ordinary finetune stage (FedProx's term is its proximal_mu), so clients run in
// parallel, on Slurm as separate jobs, and from the cache like any other stage.
#include "federated_stages.hpp"
#include "pipeline/plugin.hpp"

namespace {
void register_federated(pipeline::Registry& registry) {
  registry.add_stage(pipeline::federated::federated_split_stage());
  registry.add_stage(pipeline::federated::fedavg_stage());
}
}  // namespace

PIPELINE_PLUGIN("federated", PIPELINE_VERSION_STRING, register_federated)
