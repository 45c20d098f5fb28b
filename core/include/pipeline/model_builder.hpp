// Builds a Model from a `layers:` list as written in YAML, checking each item against its layer
// type's schema and inferring shapes, with every problem located at its item.
#pragma once

#include <memory>

#include "pipeline/extensions.hpp"
#include "pipeline/model.hpp"
#include "pipeline/stage.hpp"

namespace pipeline {

// `layers` items are either a layer type ("relu") or a one-key map ({conv2d: {out: 32, ...}});
// a map may carry `name`. Returns null when a problem was reported to `diagnostics`.
std::unique_ptr<Model> build_model(const Shape& input, const Value& layers, Diagnostics& diagnostics);

// The same for a block's children: the layers of `layers` for inputs of shape `input`, each with its
// output shape; `ok` is false when a problem was reported.
struct BuiltLayers {
  std::vector<std::unique_ptr<Layer>> layers;
  std::vector<Shape> shapes;
  bool ok = false;
};
BuiltLayers build_layers(const Shape& input, const Value& layers, Diagnostics& diagnostics);

// The layer types a `layers:` list names, for the content key (StageInfo::extensions).
std::vector<ExtensionRef> layer_types_of(const Value& layers);

}  // namespace pipeline
