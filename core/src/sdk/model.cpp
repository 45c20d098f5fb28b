#include "pipeline/model.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "pipeline/error.hpp"

namespace pipeline {

void Model::add(std::unique_ptr<Layer> layer) {
  Shape out = layer->output_shape(output_shape());
  layers_.push_back(std::move(layer));
  shapes_.push_back(std::move(out));
}

void Model::replace(std::size_t i, std::unique_ptr<Layer> layer) {
  const Shape in = i == 0 ? input_shape_ : shapes_.at(i - 1);
  std::vector<Shape> shapes(shapes_.begin(), shapes_.begin() + static_cast<std::ptrdiff_t>(i));
  shapes.push_back(layer->output_shape(in));
  for (std::size_t k = i + 1; k < layers_.size(); ++k) shapes.push_back(layers_[k]->output_shape(shapes.back()));
  layers_.at(i) = std::move(layer);
  shapes_ = std::move(shapes);
  activations_.clear();
}

void Model::truncate_after(std::size_t i) {
  layers_.resize(i + 1);
  shapes_.resize(i + 1);
  activations_.clear();
}

std::unique_ptr<Model> Model::clone() const {
  auto copy = std::make_unique<Model>(input_shape_);
  for (const auto& l : layers_) copy->layers_.push_back(l->clone());
  copy->shapes_ = shapes_;
  copy->notes_ = notes_;
  return copy;
}

std::ptrdiff_t Model::find(const std::string& name) const {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i]->name() == name) return static_cast<std::ptrdiff_t>(i);
  return -1;
}

std::size_t Model::first_trainable() const {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i]->has_trainable_parameters()) return i;
  return layers_.size();
}

void Model::forward(const Tensor& x, Tensor& out, Mode mode, std::size_t first, std::size_t end) {
  end = std::min(end, layers_.size());
  if (first >= end) throw Error(ErrorCode::internal, "forward over an empty range of layers");
  activations_.resize(layers_.size());
  first_run_ = first;
  const Tensor* in = &x;
  for (std::size_t i = first; i < end; ++i) {
    // The last layer writes straight into the caller's tensor; the others keep their outputs,
    // which the next layer's backward pass may need.
    Tensor& target = i + 1 == end ? out : activations_[i];
    layers_[i]->forward(*in, target, mode);
    in = &target;
  }
}

void Model::backward(const Tensor& grad_logits, bool need_input_grad) {
  if (layers_.empty()) return;
  const std::size_t stop = need_input_grad ? first_run_ : std::max(first_run_, first_trainable());
  if (stop >= layers_.size()) return;  // nothing trainable: no backward pass at all
  const Tensor* grad = &grad_logits;
  for (std::size_t i = layers_.size(); i-- > stop;) {
    const bool want_input = i > stop || need_input_grad;
    Tensor* grad_in = nullptr;
    if (want_input) grad_in = i == stop ? &input_grad_ : (grad == &scratch_a_ ? &scratch_b_ : &scratch_a_);
    layers_[i]->backward(*grad, grad_in);
    grad = grad_in;
  }
}

std::vector<Model::NamedParameter> Model::named_parameters() {
  std::vector<NamedParameter> out;
  for (auto& l : layers_)
    for (auto& p : l->parameters()) out.push_back({l->name() + "." + p.name, &p});
  return out;
}

std::int64_t Model::parameter_count(bool trainable_only) const {
  std::int64_t n = 0;
  for (const auto& l : layers_)
    for (const auto& p : l->parameters())
      if (!p.buffer && (!trainable_only || p.trainable)) n += p.value.numel();
  return n;
}

std::string Model::summary() const {
  return "model of " + std::to_string(layers_.size()) + " layers, " + to_string(input_shape_) + " -> " +
         to_string(output_shape()) + ", " + std::to_string(parameter_count()) + " parameters";
}

std::string Model::table() const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-12s %-10s %-16s %10s  %s", "layer", "type", "output", "params", "");
  out += line;
  out += "\n";
  std::snprintf(line, sizeof line, "%-12s %-10s %-16s %10s", "(input)", "", to_string(input_shape_).c_str(), "");
  out += line;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    std::int64_t n = 0;
    bool frozen = false;
    for (const auto& p : layers_[i]->parameters()) {
      if (p.buffer) continue;
      n += p.value.numel();
      frozen = frozen || !p.trainable;
    }
    std::snprintf(line, sizeof line, "\n%-12s %-10s %-16s %10lld  %s%s", layers_[i]->name().c_str(),
                  layers_[i]->type().c_str(), to_string(shapes_[i]).c_str(), static_cast<long long>(n),
                  layers_[i]->describe().c_str(), frozen ? " (frozen)" : "");
    out += line;
  }
  std::snprintf(line, sizeof line, "\ntotal %lld parameters, %lld trainable", static_cast<long long>(parameter_count()),
                static_cast<long long>(parameter_count(true)));
  return out + line;
}

}  // namespace pipeline
