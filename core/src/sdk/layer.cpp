#include "pipeline/layer.hpp"

#include "pipeline/optimizer.hpp"

namespace pipeline {

Layer::~Layer() = default;
Optimizer::~Optimizer() = default;

std::unique_ptr<Layer> Layer::clone() const {
  std::unique_ptr<Layer> copy = clone_layer();
  if (copy) {
    copy->name_ = name_;
    copy->spec_ = spec_;
  }
  return copy;
}

Parameter* Layer::find_parameter(const std::string& name) {
  for (auto& p : params_)
    if (p.name == name) return &p;
  return nullptr;
}

bool Layer::has_trainable_parameters() const {
  for (const auto& p : params_)
    if (p.trainable && !p.buffer) return true;
  return false;
}

}  // namespace pipeline
