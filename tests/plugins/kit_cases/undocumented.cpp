// A plugin that loads but whose schemas are poorly documented (empty doc strings): check-plugin
// fails it with a line naming each type.
#include "pipeline/sdk.hpp"

namespace {

using namespace pipeline;

class Noop : public Stage {
 public:
  void run(StageContext& ctx) override { ctx.metric("ran", Value::boolean(true)); }
};

class Identity : public Layer {
 public:
  explicit Identity(std::string name) : Layer("undocumented_layer", std::move(name)) {}
  Shape output_shape(const Shape& input) const override { return input; }
  void initialize(Rng&) override {}
  void forward(const Tensor& input, Tensor& output, Mode) override { output = input; }
  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (grad_input) *grad_input = grad_output;
  }
  std::unique_ptr<Layer> clone_layer() const override { return std::make_unique<Identity>(name()); }
};

void register_undocumented(Registry& r) {
  StageInfo stage;
  stage.name = "undocumented_stage";
  stage.doc = "";
  stage.params = {param_int("count", "", 1)};
  stage.create = [](const Params&) { return std::make_unique<Noop>(); };
  r.add_stage(stage);

  LayerInfo layer;
  layer.name = "undocumented_layer";
  layer.doc = "an identity";
  layer.params = {param_float("gain", "", 1.0)};
  layer.create = [](const std::string& name, const Params&, const Shape&) { return std::make_unique<Identity>(name); };
  r.add_layer(layer);
}

}  // namespace

PIPELINE_PLUGIN("undocumented", "1.0", register_undocumented)
