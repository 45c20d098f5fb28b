// train: minibatch training of a model on a dataset; outputs the trained copy.
#include "pipeline/sdk.hpp"
#include "stages.hpp"
#include "train_loop.hpp"

namespace pipeline::train {
namespace {

class TrainStage : public Stage {
 public:
  explicit TrainStage(const Params& p) : options_(training_options(p)) {}
  void run(StageContext& ctx) override {
    auto input = ctx.input_as<Model>("model");
    auto data = ctx.input_as<Dataset>("data");
    std::shared_ptr<const Dataset> validation;
    if (ctx.has_input("validation")) validation = ctx.input_as<Dataset>("validation");
    std::shared_ptr<Model> model = input->clone();
    train_model(*model, *data, validation.get(), options_, ctx);
    ctx.set_output("model", std::shared_ptr<const Model>(model));
  }

 private:
  TrainOptions options_;
};

}  // namespace

StageInfo train_stage() {
  StageInfo info;
  info.name = "train";
  info.doc = "train a model with minibatch SGD, Adam or AdamW on softmax cross-entropy";
  info.compute = true;
  info.inputs = {{"model", "model", "the model to train (left unchanged; a trained copy is output)"},
                 {"data", "dataset", "training samples"},
                 {"validation", "dataset", "scored after every epoch", true}};
  info.outputs = {{"model", "model", "the trained model"}};
  info.params = training_params(0.01);
  info.create = [](const Params& p) { return std::make_unique<TrainStage>(p); };
  info.check = check_training_params;
  return info;
}

}  // namespace pipeline::train
