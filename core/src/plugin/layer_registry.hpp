// The process-wide table of layer types, filled as plugins load. Layer types must be visible to
// every plugin (a model stage builds layers that other plugins registered), hence one table.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline/layer.hpp"

namespace pipeline {

class LayerRegistry {
 public:
  static LayerRegistry& instance();
  const LayerInfo* find(const std::string& name) const;
  std::vector<std::string> names() const;
  // Adds a layer type owned by `owner` (a plugin file); returns the existing owner on a clash.
  std::string add(LayerInfo info, const std::string& owner);
  // Forgets the layer types of an owner whose library is about to be released (once every
  // PluginSet that loaded it has).
  void remove_owned_by(const std::string& owner);

 private:
  struct Entry {
    LayerInfo info;
    std::string owner;
    int users = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> types_;
};

}  // namespace pipeline
