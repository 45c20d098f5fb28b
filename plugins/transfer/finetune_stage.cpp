// finetune: the train loop (shared with `train`) with transfer controls: per-layer learning-rate
// multipliers, gradual unfreezing, and training on cached outputs of a frozen prefix.
#include "pipeline/sdk.hpp"
#include "transfer_stages.hpp"
#include "train_loop.hpp"

namespace pipeline::transfer {
namespace {

class Finetune : public Stage {
 public:
  explicit Finetune(const Params& p) : options_(train::training_options(p)) { train::read_transfer_options(p, options_); }
  void run(StageContext& ctx) override {
    std::shared_ptr<Model> model = ctx.input_as<Model>("model")->clone();
    auto data = ctx.input_as<Dataset>("data");
    std::shared_ptr<const Dataset> validation;
    if (ctx.has_input("validation")) validation = ctx.input_as<Dataset>("validation");
    train::train_model(*model, *data, validation.get(), options_, ctx);
    ctx.set_output("model", std::shared_ptr<const Model>(model));
  }

 private:
  train::TrainOptions options_;
};

}  // namespace

StageInfo finetune_stage() {
  StageInfo info;
  info.name = "finetune";
  info.doc = "train a pretrained model on a target task, with per-layer rates, gradual unfreezing and cached features";
  info.compute = true;
  info.inputs = {{"model", "model", "the pretrained model, with its frozen layers already frozen"},
                 {"data", "dataset", "target training samples"},
                 {"validation", "dataset", "scored after every epoch", true}};
  info.outputs = {{"model", "model", "the finetuned model"}};
  info.params = train::training_params(0.01);
  for (auto& p : train::transfer_params()) info.params.push_back(p);
  info.create = [](const Params& p) { return std::make_unique<Finetune>(p); };
  info.check = train::check_training_params;
  return info;
}

}  // namespace pipeline::transfer
