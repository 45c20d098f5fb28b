// A layer whose backward is wrong (twice the true input gradient): check-plugin must fail it,
// naming the type and the gradient.
#include "pipeline/sdk.hpp"

namespace {

using namespace pipeline;

class Triple : public Layer {
 public:
  explicit Triple(std::string name) : Layer("wrong_backward", std::move(name)) {}
  Shape output_shape(const Shape& input) const override { return input; }
  void initialize(Rng&) override {}
  void forward(const Tensor& input, Tensor& output, Mode) override {
    output.resize(input.shape());
    for (std::size_t i = 0; i < input.values().size(); ++i) output.values()[i] = 3 * input.values()[i];
  }
  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!grad_input) return;
    grad_input->resize(grad_output.shape());
    for (std::size_t i = 0; i < grad_output.values().size(); ++i) grad_input->values()[i] = 6 * grad_output.values()[i];
  }
  std::unique_ptr<Layer> clone_layer() const override { return std::make_unique<Triple>(name()); }
};

void register_wrong(Registry& r) {
  LayerInfo info;
  info.name = "wrong_backward";
  info.doc = "y = 3x with a backward that gives 6";
  info.create = [](const std::string& name, const Params&, const Shape&) { return std::make_unique<Triple>(name); };
  r.add_layer(info);
}

}  // namespace

PIPELINE_PLUGIN("wrong_backward", "1.0", register_wrong)
