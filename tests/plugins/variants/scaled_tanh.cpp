// A third-party layer plugin built in variants that differ only in their code (SCALE) or also
// in their version string (VERSION): the reproducibility test rebuilds "the same" plugin.
#include <cmath>

#include "pipeline/sdk.hpp"

#ifndef SCALE
#error "define SCALE"
#endif
#ifndef VERSION
#error "define VERSION"
#endif

namespace {

using namespace pipeline;

// y = SCALE * tanh(x)
class ScaledTanh : public Layer {
 public:
  explicit ScaledTanh(std::string name) : Layer("scaled_tanh", std::move(name)) {}
  Shape output_shape(const Shape& input) const override { return input; }
  void initialize(Rng&) override {}
  void forward(const Tensor& input, Tensor& output, Mode) override {
    output.resize(input.shape());
    for (std::size_t i = 0; i < input.values().size(); ++i) output.values()[i] = SCALE * std::tanh(input.values()[i]);
    output_ = &output;
  }
  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!grad_input) return;
    grad_input->resize(grad_output.shape());
    for (std::size_t i = 0; i < grad_output.values().size(); ++i) {
      const float t = output_->values()[i] / SCALE;
      grad_input->values()[i] = grad_output.values()[i] * SCALE * (1 - t * t);
    }
  }
  std::unique_ptr<Layer> clone_layer() const override { return std::make_unique<ScaledTanh>(name()); }

 private:
  const Tensor* output_ = nullptr;
};

void register_variant(Registry& r) {
  LayerInfo info;
  info.name = "scaled_tanh";
  info.doc = "a constant times tanh";
  info.create = [](const std::string& name, const Params&, const Shape&) { return std::make_unique<ScaledTanh>(name); };
  r.add_layer(info);
}

}  // namespace

PIPELINE_PLUGIN("variant_layers", VERSION, register_variant)
