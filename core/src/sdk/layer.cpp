#include "pipeline/layer.hpp"

#include <map>
#include <mutex>

#include "plugin/layer_registry.hpp"

namespace pipeline {

Layer::~Layer() = default;

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

LayerRegistry& LayerRegistry::instance() {
  static LayerRegistry registry;
  return registry;
}

const LayerInfo* LayerRegistry::find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : &it->second.info;
}

std::vector<std::string> LayerRegistry::names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, _] : types_) out.push_back(name);
  return out;
}

std::string LayerRegistry::add(LayerInfo info, const std::string& owner) {
  std::lock_guard lock(mutex_);
  auto it = types_.find(info.name);
  if (it != types_.end()) {
    if (it->second.owner != owner) return it->second.owner;
    ++it->second.users;  // the same plugin file loaded by another PluginSet
    return {};
  }
  std::string name = info.name;
  // Every layer made through the registry remembers its checked parameters, so a model can be
  // rebuilt from its description (the cache), whichever plugin or stage made it.
  info.create = [create = std::move(info.create)](const std::string& layer_name, const Params& params,
                                                  const Shape& input) {
    std::unique_ptr<Layer> layer = create(layer_name, params, input);
    if (layer) layer->set_spec(params.all());
    return layer;
  };
  types_.emplace(name, Entry{std::move(info), owner, 1});
  return {};
}

void LayerRegistry::remove_owned_by(const std::string& owner) {
  std::lock_guard lock(mutex_);
  for (auto it = types_.begin(); it != types_.end();)
    it = it->second.owner == owner && --it->second.users == 0 ? types_.erase(it) : std::next(it);
}

const LayerInfo* find_layer_type(const std::string& name) { return LayerRegistry::instance().find(name); }
std::vector<std::string> layer_type_names() { return LayerRegistry::instance().names(); }

}  // namespace pipeline
