// Named architectures for the model stage (`architecture: resnet18`): each builds the `layers:`
// list of torchvision's module tree, so parameter paths match torchvision's state_dict names.
#pragma once

#include <string>
#include <vector>

#include "pipeline/value.hpp"

namespace pipeline::layers {

struct ArchitectureOptions {
  std::int64_t classes = 1000;
};

// The names model's `architecture:` accepts besides a YAML file.
std::vector<std::string> architecture_names();
// The layers list for a named architecture; throws Error(config_schema) for an unknown name.
Value architecture_layers(const std::string& name, const ArchitectureOptions& options);

Value resnet_layers(const std::string& name, const ArchitectureOptions& options);  // resnet.cpp
Value mobilenet_v2_layers(const ArchitectureOptions& options);                      // mobilenet_v2.cpp

// Helpers for writing layer items as the YAML does: {type: {name: ..., params...}}.
Value item(const std::string& type, const std::string& name, Value params = Value::map());

}  // namespace pipeline::layers
