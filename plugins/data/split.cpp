// split: holds out a seeded, stratified validation set from a dataset, so that every class keeps
// its share on both sides.
#include <memory>

#include "pipeline/sdk.hpp"
#include "stages.hpp"
#include "transforms.hpp"

namespace pipeline::data {
namespace {

class Split : public Stage {
 public:
  explicit Split(const Params& p) : params_(p) {}

  void run(StageContext& ctx) override {
    auto in = ctx.input_as<Dataset>("data");
    Rng rng(ctx.seed());
    SplitDatasets parts = split_dataset(*in, params_.get_float("validation_fraction"), rng);
    auto train = std::make_shared<Dataset>(std::move(parts.train));
    auto validation = std::make_shared<Dataset>(std::move(parts.validation));
    ctx.log("train " + std::to_string(train->size()) + ", validation " + std::to_string(validation->size()) +
            " of " + std::to_string(in->size()) + " samples");
    ctx.metric("train_samples", Value::integer(train->size()));
    ctx.metric("validation_samples", Value::integer(validation->size()));
    ctx.set_output("train", train);
    ctx.set_output("validation", validation);
  }

 private:
  Params params_;
};

}  // namespace

StageInfo split_stage() {
  StageInfo info;
  info.name = "split";
  info.doc = "split a dataset into train and validation sets, stratified by class, with the stage's seed";
  info.inputs = {{"data", "dataset", "the dataset to split"}};
  info.outputs = {
      {"train", "dataset", "the samples not held out, in their original order"},
      {"validation", "dataset", "the held-out samples (validation_fraction of each class), in their original order"},
  };
  info.params = {
      param_float("validation_fraction", "fraction of each class held out as 'validation', rounded per class", 0.2)
          .range(0, 1),
  };
  info.create = [](const Params& p) { return std::make_unique<Split>(p); };
  return info;
}

}  // namespace pipeline::data
