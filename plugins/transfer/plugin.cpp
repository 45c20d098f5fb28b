// The transfer plugin: freezing, heads, finetuning and comparing arms of a transfer experiment.
#include "pipeline/plugin.hpp"
#include "transfer_stages.hpp"

namespace {
void register_transfer(pipeline::Registry& registry) {
  using namespace pipeline::transfer;
  for (auto info : {freeze_stage(), unfreeze_stage(), replace_head_stage(), truncate_stage(), finetune_stage(),
                    compare_stage(), embed_stage()})
    registry.add_stage(info);
}
}  // namespace

PIPELINE_PLUGIN("transfer", PIPELINE_VERSION_STRING, register_transfer)
