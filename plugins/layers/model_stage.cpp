// model: builds a Model from a `layers:` list, with shapes inferred and checked before the run,
// initialised as PyTorch's defaults from the stage's seed.
#include "pipeline/model_builder.hpp"
#include "pipeline/schema.hpp"
#include "pipeline/sdk.hpp"
#include "stages.hpp"

namespace pipeline::layers {
namespace {

Shape input_shape(const Params& p) {
  Shape s;
  for (auto d : p.get_int_list("input")) s.push_back(d);
  return s;
}

class ModelStage : public Stage {
 public:
  explicit ModelStage(const Params& p) : params_(p) {}
  void run(StageContext& ctx) override {
    ThrowingDiagnostics diag;
    std::unique_ptr<Model> model = build_model(input_shape(params_), params_.get("layers"), diag);
    Rng rng(ctx.seed());
    for (std::size_t i = 0; i < model->size(); ++i) model->layer(i).initialize(rng);
    ctx.log(model->table());
    ctx.metric("parameters", Value::integer(model->parameter_count()));
    ctx.set_output("model", std::shared_ptr<const Model>(std::move(model)));
  }

 private:
  Params params_;
};

}  // namespace

StageInfo model_stage() {
  StageInfo info;
  info.name = "model";
  info.doc = "build a model from a list of layers; shapes are checked before the run";
  info.outputs = {{"model", "model", "the initialised model"}};
  info.params = {
      param_list("input", "shape of one input sample, e.g. [1, 28, 28]", ParamType::integer).range(1, 1 << 24),
      param_list("layers", "layers in order: a type (relu) or {type: {name: ..., params...}}", ParamType::any),
  };
  info.create = [](const Params& p) { return std::make_unique<ModelStage>(p); };
  info.extensions = [](const Params& p) { return layer_types_of(p.get("layers")); };
  info.examples = {parse_value("{input: [1, 8, 8], layers: [{conv2d: {out: 4, kernel: 3}}, relu, flatten, {linear: {out: 3}}]}")};
  info.check = [](const Params& p, Diagnostics& diag) {
    if (p.get("input").items().empty()) {
      diag.error(p.location("input"), "parameter 'input' needs at least one dimension");
      return;
    }
    build_model(input_shape(p), p.get("layers"), diag);
  };
  return info;
}

}  // namespace pipeline::layers
