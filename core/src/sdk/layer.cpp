#include "pipeline/layer.hpp"

#include "pipeline/error.hpp"
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

Layer& Layer::child(std::size_t i) {
  throw Error(ErrorCode::internal, "layer '" + name_ + "' (" + type_ + ") has no child " + std::to_string(i));
}

void Layer::replace_child(std::size_t, std::unique_ptr<Layer>) {
  throw Error(ErrorCode::config_schema, "layer '" + name_ + "' (" + type_ + ") cannot replace its layers");
}

bool Layer::has_trainable_parameters() const {
  for (const auto& p : params_)
    if (p.trainable && !p.buffer) return true;
  for (std::size_t i = 0; i < child_count(); ++i)
    if (child(i).has_trainable_parameters()) return true;
  return false;
}

bool Layer::has_parameters() const {
  if (!params_.empty()) return true;
  for (std::size_t i = 0; i < child_count(); ++i)
    if (child(i).has_parameters()) return true;
  return false;
}

}  // namespace pipeline
