// A chain of layers run one after another, with the activations its backward pass needs: the
// body of the sequential and residual blocks.
#pragma once

#include <memory>
#include <vector>

#include "pipeline/layer.hpp"
#include "pipeline/model_builder.hpp"

namespace pipeline::layers {

class LayerChain {
 public:
  LayerChain() = default;
  LayerChain(const Shape& input, BuiltLayers built) : input_(input), layers_(std::move(built.layers)) {}
  LayerChain clone() const;

  bool empty() const { return layers_.empty(); }
  const Shape& input_shape() const { return input_; }
  std::size_t size() const { return layers_.size(); }
  Layer& layer(std::size_t i) { return *layers_[i]; }
  const Layer& layer(std::size_t i) const { return *layers_[i]; }
  // Computed from the input shape each time, so they stay right after a child is replaced.
  Shape output_shape_of(std::size_t i) const;
  // Replaces layer i; throws Error when the later layers do not accept its output.
  void replace(std::size_t i, std::unique_ptr<Layer> layer);

  void initialize(Rng& rng);
  // `input` and `output` must outlive the next backward, as for a layer.
  void forward(const Tensor& input, Tensor& output, Mode mode);
  // Gradients of every trainable parameter in the chain; the input gradient only when asked for.
  // Stops early when nothing below needs a gradient.
  void backward(const Tensor& grad_output, Tensor* grad_input);
  bool same_in_training_and_evaluation() const;

 private:
  Shape input_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Tensor> activations_;  // outputs of all but the last layer
  Tensor scratch_a_, scratch_b_;
};

// A layer as a `layers:` item, {type: {name: ..., its spec}}: how a block's spec describes a child.
Value item_of(const Layer& layer);

// Builds a block's children from a layer list, throwing the first problem located at its item.
LayerChain build_chain(const Shape& input, const Value& layers);

}  // namespace pipeline::layers
