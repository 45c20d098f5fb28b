// finetune: the train loop (shared with `train`) with transfer controls: per-layer learning-rate
// multipliers, gradual unfreezing, and training on cached outputs of a frozen prefix.
#include "pipeline/sdk.hpp"
#include "train_loop.hpp"
#include "transfer_stages.hpp"

namespace pipeline::transfer {

StageInfo finetune_stage() {
  StageInfo info = train::training_stage_info("finetune", 0.01);
  info.doc = "train a pretrained model on a target task, with per-layer rates, gradual unfreezing and cached features";
  info.inputs[0].doc = "the pretrained model, with its frozen layers already frozen";
  info.inputs[1].doc = "target training samples";
  info.outputs[0].doc = "the finetuned model";
  for (auto& p : train::transfer_params()) info.params.push_back(p);
  info.create = [](const Params& p) {
    train::TrainOptions options = train::training_options(p);
    train::read_transfer_options(p, options);
    return std::make_unique<train::TrainingStage>(std::move(options));
  };
  return info;
}

}  // namespace pipeline::transfer
