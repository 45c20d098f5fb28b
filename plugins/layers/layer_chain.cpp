#include "layer_chain.hpp"

#include "pipeline/schema.hpp"

namespace pipeline::layers {

LayerChain LayerChain::clone() const {
  LayerChain copy;
  copy.input_ = input_;
  for (const auto& l : layers_) copy.layers_.push_back(l->clone());
  return copy;
}

Shape LayerChain::output_shape_of(std::size_t i) const {
  Shape shape = input_;
  for (std::size_t k = 0; k <= i && k < layers_.size(); ++k) shape = layers_[k]->output_shape(shape);
  return shape;
}

void LayerChain::replace(std::size_t i, std::unique_ptr<Layer> layer) {
  std::swap(layers_.at(i), layer);
  try {
    output_shape_of(layers_.size() - 1);  // every later layer must accept the new output
  } catch (...) {
    std::swap(layers_.at(i), layer);
    throw;
  }
  activations_.clear();
}

void LayerChain::initialize(Rng& rng) {
  for (auto& l : layers_) l->initialize(rng);
}

void LayerChain::forward(const Tensor& input, Tensor& output, Mode mode) {
  activations_.resize(layers_.size());
  const Tensor* in = &input;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Tensor& target = i + 1 == layers_.size() ? output : activations_[i];
    layers_[i]->forward(*in, target, mode);
    in = &target;
  }
}

void LayerChain::backward(const Tensor& grad_output, Tensor* grad_input) {
  // Layer i needs to pass a gradient down when the caller wants one or a layer below it trains.
  std::vector<bool> below_trains(layers_.size(), false);
  for (std::size_t i = 1; i < layers_.size(); ++i)
    below_trains[i] = below_trains[i - 1] || layers_[i - 1]->has_trainable_parameters();
  const Tensor* grad = &grad_output;
  for (std::size_t i = layers_.size(); i-- > 0;) {
    const bool pass_down = i > 0 ? (grad_input != nullptr || below_trains[i]) : grad_input != nullptr;
    Tensor* target = nullptr;
    if (pass_down) target = i == 0 ? grad_input : (grad == &scratch_a_ ? &scratch_b_ : &scratch_a_);
    if (!pass_down && !layers_[i]->has_trainable_parameters()) return;  // nothing left to compute
    layers_[i]->backward(*grad, target);
    if (!pass_down) return;
    grad = target;
  }
}

bool LayerChain::same_in_training_and_evaluation() const {
  for (const auto& l : layers_)
    if (!l->same_in_training_and_evaluation()) return false;
  return true;
}

LayerChain build_chain(const Shape& input, const Value& layers) {
  ThrowingDiagnostics diag;
  BuiltLayers built = build_layers(input, layers, diag);
  if (!built.ok) throw Error(ErrorCode::config_schema, "the block's layers do not fit", layers.location());
  return LayerChain(input, std::move(built));
}

}  // namespace pipeline::layers
