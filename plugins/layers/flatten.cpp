// flatten: [C, H, W] → [C*H*W], in C, H, W order as PyTorch's flatten.
#include <cstring>

#include "layer_types.hpp"

namespace pipeline::layers {
namespace {

class Flatten : public Layer {
 public:
  explicit Flatten(const std::string& name) : Layer("flatten", name) {}
  Shape output_shape(const Shape& in) const override { return {numel(in)}; }
  void initialize(Rng&) override {}
  std::unique_ptr<Layer> clone_layer() const override { return std::make_unique<Flatten>(name()); }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    ++counters_.forward;
    // Row-major storage is already flat: only the shape changes.
    output.resize({input.dim(0), input.numel() / std::max<std::int64_t>(1, input.dim(0))});
    std::memcpy(output.data(), input.data(), sizeof(float) * static_cast<std::size_t>(input.numel()));
    if (mode == Mode::train) input_shape_ = input.shape();
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!grad_input) return;
    ++counters_.backward_data;
    grad_input->resize(input_shape_);
    std::memcpy(grad_input->data(), grad_output.data(), sizeof(float) * static_cast<std::size_t>(grad_output.numel()));
  }

 private:
  Shape input_shape_;
};

}  // namespace

LayerInfo flatten_layer() {
  LayerInfo info;
  info.name = "flatten";
  info.doc = "flatten each sample to one dimension (C, H, W order)";
  info.create = [](const std::string& name, const Params&, const Shape&) -> std::unique_ptr<Layer> {
    return std::make_unique<Flatten>(name);
  };
  return info;
}

}  // namespace pipeline::layers
