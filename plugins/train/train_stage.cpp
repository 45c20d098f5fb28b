// train: minibatch training of a model on a dataset; outputs the trained copy.
#include "pipeline/sdk.hpp"
#include "stages.hpp"
#include "train_loop.hpp"

namespace pipeline::train {

StageInfo train_stage() {
  StageInfo info = training_stage_info("train", 0.01);
  info.doc = "train a model with minibatch SGD, Adam or AdamW on softmax cross-entropy";
  info.create = [](const Params& p) { return std::make_unique<TrainingStage>(training_options(p)); };
  return info;
}

}  // namespace pipeline::train
