// The example plugin's layer type, `softsign`: y = x / (1 + |x|), elementwise, with its own
// forward and backward (no oneDNN needed for so simple a layer).
#include <cmath>
#include <memory>

#include <pipeline/sdk.hpp>

namespace example {
namespace {

class Softsign : public pipeline::Layer {
 public:
  explicit Softsign(std::string name) : Layer("softsign", std::move(name)) {}

  pipeline::Shape output_shape(const pipeline::Shape& input) const override { return input; }
  void initialize(pipeline::Rng&) override {}  // no parameters

  void forward(const pipeline::Tensor& input, pipeline::Tensor& output, pipeline::Mode) override {
    output.resize(input.shape());
    for (std::size_t i = 0; i < input.values().size(); ++i) {
      const float x = input.values()[i];
      output.values()[i] = x / (1 + std::fabs(x));
    }
    input_ = &input;  // the Model keeps it alive until backward
  }

  // dy/dx = 1 / (1 + |x|)^2
  void backward(const pipeline::Tensor& grad_output, pipeline::Tensor* grad_input) override {
    if (!grad_input) return;  // nothing before this layer needs a gradient
    grad_input->resize(grad_output.shape());
    for (std::size_t i = 0; i < grad_output.values().size(); ++i) {
      const float d = 1 + std::fabs(input_->values()[i]);
      grad_input->values()[i] = grad_output.values()[i] / (d * d);
    }
  }

  // name and spec are carried over by Layer::clone().
  std::unique_ptr<pipeline::Layer> clone_layer() const override { return std::make_unique<Softsign>(name()); }

 private:
  const pipeline::Tensor* input_ = nullptr;
};

}  // namespace

pipeline::LayerInfo softsign_layer() {
  pipeline::LayerInfo info;
  info.name = "softsign";
  info.doc = "x / (1 + |x|), elementwise";
  info.create = [](const std::string& name, const pipeline::Params&, const pipeline::Shape&) {
    return std::make_unique<Softsign>(name);
  };
  // Where the testkit and `pipeline check-plugin` check it (any shape works).
  info.examples = {{pipeline::Value::map(), {4, 5}}, {pipeline::Value::map(), {2, 3, 3}}};
  return info;
}

}  // namespace example
