#include "pipeline/model_builder.hpp"

#include <set>

#include "pipeline/schema.hpp"

namespace pipeline {

BuiltLayers build_layers(const Shape& input, const Value& layers, Diagnostics& diag) {
  BuiltLayers built;
  Shape shape = input;
  std::set<std::string> names;
  bool ok = true;
  std::size_t index = 0;
  for (const Value& item : layers.items()) {
    ++index;
    std::string type;
    Value args = Value::map();
    Location where = item.location();
    if (item.is_string()) {
      type = item.as_string();
    } else if (item.is_map() && item.size() == 1) {
      type = item.entries()[0].first;
      where = item.key_location(type);
      const Value& given = item.entries()[0].second;
      if (given.is_map()) {
        args = given;
      } else if (!given.is_null()) {
        diag.error(given.location(), "layer " + std::to_string(index) + " (" + type +
                                         "): expected a map of layer parameters, got " + given.str());
        ok = false;
        continue;
      }
    } else {
      diag.error(where, "layer " + std::to_string(index) +
                            ": expected a layer type (e.g. relu) or a one-key map (e.g. {conv2d: {out: 32, kernel: 3}})");
      ok = false;
      continue;
    }

    const LayerInfo* info = find_layer_type(type);
    if (!info) {
      const std::string hint = did_you_mean(type, layer_type_names());
      diag.error(where, "unknown layer type '" + type + "'" + (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
      ok = false;
      continue;
    }
    std::string name = type + std::to_string(index);
    if (const Value* n = args.find("name")) {
      if (!n->is_string() || n->as_string().empty() || n->as_string().find('.') != std::string::npos) {
        diag.error(n->location(), "layer " + std::to_string(index) + " (" + type +
                                      "): 'name' must be a non-empty string without dots");
        ok = false;
        continue;
      }
      name = n->as_string();
      Value rest = Value::map();
      for (const auto& [k, v] : args.entries())
        if (k != "name") rest.set(k, v, args.key_location(k));
      args = rest.at(args.location());
    }
    if (!names.insert(name).second) {
      diag.error(where, "two layers are named '" + name + "'");
      ok = false;
      continue;
    }
    const std::string context = "layer '" + name + "' (" + type + ")";
    CountingDiagnostics counting(diag);
    Params params = check_params(info->params, args, context, where, "/", counting);
    if (counting.errors() || !ok) {
      ok = false;
      continue;  // later shapes depend on this layer: stop inferring, keep checking schemas
    }
    try {
      std::unique_ptr<Layer> layer = info->create(name, params, shape);
      if (!layer) throw Error(ErrorCode::internal, "layer type " + type + ": create returned nothing");
      shape = layer->output_shape(shape);
      built.layers.push_back(std::move(layer));
      built.shapes.push_back(shape);
    } catch (const Error& e) {
      // A block reports the problem of its own item, located there.
      diag.error(e.location().known() ? e.location() : where, e.message());
      ok = false;
    }
  }
  if (layers.items().empty()) {
    diag.error(layers.location(), "a model needs at least one layer");
    ok = false;
  }
  built.ok = ok;
  return built;
}

std::unique_ptr<Model> build_model(const Shape& input, const Value& layers, Diagnostics& diag) {
  BuiltLayers built = build_layers(input, layers, diag);
  if (!built.ok) return nullptr;
  auto model = std::make_unique<Model>(input);
  for (auto& layer : built.layers) model->add(std::move(layer));
  return model;
}

std::vector<ExtensionRef> layer_types_of(const Value& layers) {
  std::vector<ExtensionRef> out;
  if (!layers.is_list()) return out;
  for (const Value& item : layers.items()) {
    std::string type;
    const Value* args = nullptr;
    if (item.is_string()) type = item.as_string();
    else if (item.is_map() && item.size() == 1) {
      type = item.entries()[0].first;
      args = &item.entries()[0].second;
    }
    if (type.empty()) continue;
    out.push_back({std::string(layer_kind), type});
    // A block's layer lists (its parameters that are lists of any items) name layer types too.
    const LayerInfo* info = find_layer_type(type);
    if (!info || !args || !args->is_map()) continue;
    for (const auto& spec : info->params)
      if (spec.type == ParamType::list && spec.item_type == ParamType::any)
        if (const Value* nested = args->find(spec.name))
          for (auto& ref : layer_types_of(*nested)) out.push_back(std::move(ref));
  }
  return out;
}

}  // namespace pipeline
