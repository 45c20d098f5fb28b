#include "plugin/describe.hpp"

#include <algorithm>
#include <sstream>

#include "plugin/extension_registry.hpp"

namespace pipeline {
namespace {

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

std::string number(double d) {
  std::ostringstream s;
  s << d;
  return s.str();
}

}  // namespace

std::string params_table(const std::vector<ParamSpec>& params);

std::string describe_constraint(const ParamSpec& spec) {
  std::string out;
  if (spec.min || spec.max) {
    out = spec.type == ParamType::list ? "items in " : "range ";
    out += "[" + (spec.min ? number(*spec.min) : std::string("-inf")) + ", " +
           (spec.max ? number(*spec.max) : std::string("inf")) + "]";
  }
  if (!spec.choices.empty() || !spec.registered.empty()) {
    std::string c;
    for (const auto& choice : spec.registered.empty() ? spec.choices : registered_names(spec.registered))
      c += (c.empty() ? "" : ", ") + choice;
    out += (out.empty() ? "" : "; ") + std::string("choices: ") + c;
    if (!spec.registered.empty()) out += " (registered " + spec.registered + "s)";
  }
  if (spec.type == ParamType::list && spec.item_type != ParamType::any)
    out += (out.empty() ? "" : "; ") + std::string("items: ") + to_string(spec.item_type);
  if (spec.must_exist) out += (out.empty() ? "" : "; ") + std::string("must exist");
  return out;
}

std::string describe_plugins(const PluginSet& plugins) {
  std::ostringstream out;
  for (const auto& p : plugins.plugins()) {
    out << p->name << " " << p->version << "\n";
    out << "  file:   " << (p->file.empty() ? "(built in)" : p->file.string()) << "\n";
    std::vector<std::string> types = p->stage_types;
    std::sort(types.begin(), types.end());
    out << "  stages:";
    for (const auto& t : types) out << " " << t;
    out << "\n";
    for (const auto& [title, list] : {std::pair{"  layers:", &p->layer_types}, std::pair{"  optimizers:", &p->optimizers},
                                      std::pair{"  codecs:", &p->codecs}}) {
      if (list->empty()) continue;
      std::vector<std::string> sorted = *list;
      std::sort(sorted.begin(), sorted.end());
      out << title;
      for (const auto& t : sorted) out << " " << t;
      out << "\n";
    }
  }
  return out.str();
}

std::string describe_stage(const RegisteredStage& stage) {
  const StageInfo& info = stage.info;
  std::ostringstream out;
  out << info.name << " - " << info.doc << "\n\n";
  out << "Plugin:   " << stage.plugin->name << " " << stage.plugin->version << "\n";
  out << "File:     " << (stage.plugin->file.empty() ? "(built in)" : stage.plugin->file.string()) << "\n";
  out << "Compute:  " << (info.compute ? "yes (runs one at a time, using all cores)" : "no") << "\n\n";

  auto ports = [&](const char* title, const std::vector<PortSpec>& list) {
    out << title << ":\n";
    if (list.empty()) out << "  (none)\n";
    for (const auto& p : list)
      out << "  " << pad(p.variadic ? "<" + p.name + ">..." : p.name, 14) << pad(p.type, 10) << p.doc
          << (p.variadic ? " (any number, under names of your choice)" : p.optional ? " (optional)" : "") << "\n";
    out << "\n";
  };
  ports("Inputs", info.inputs);
  ports("Outputs", info.outputs);

  out << params_table(info.params);
  return out.str();
}

// "Plugin: ... / File: ..." of a registered extension.
std::string provenance(const ExtensionRef& ref) {
  const auto owner = ExtensionRegistry::instance().owner(ref);
  if (!owner) return {};
  const bool file = !owner->id.empty() && owner->id[0] != '<';
  return "Plugin:   " + owner->plugin + " " + owner->version + "\n" + "File:     " +
         (file ? owner->id : owner->id == "<core>" ? std::string("(the core library)") : std::string("(built in)")) + "\n\n";
}

std::string describe_layer(const LayerInfo& layer) {
  std::ostringstream out;
  out << layer.name << " - " << layer.doc << " (layer type, for a model's layers: list)\n\n";
  out << provenance({std::string(layer_kind), layer.name});
  std::vector<ParamSpec> params = {param_string("name", "the layer's name (default: type and position)").optional_value()};
  params.insert(params.end(), layer.params.begin(), layer.params.end());
  out << params_table(params);
  return out.str();
}

std::string describe_optimizer(const OptimizerInfo& optimizer) {
  std::ostringstream out;
  out << optimizer.name << " - " << optimizer.doc << " (optimizer, for a training stage's optimizer:)\n\n";
  out << provenance({std::string(optimizer_kind), optimizer.name});
  out << params_table(optimizer.params);
  out << "\nSet them through the training stage's optimizer_params map, or its shorthands of the same name.\n";
  return out.str();
}

std::string describe_extension_named(const std::string& name) {
  if (const LayerInfo* layer = ExtensionRegistry::instance().layers.find(name)) return describe_layer(*layer);
  if (const OptimizerInfo* optimizer = ExtensionRegistry::instance().optimizers.find(name)) return describe_optimizer(*optimizer);
  if (const CodecInfo* codec = ExtensionRegistry::instance().codecs.find(name))
    return "codec for " + codec->type + " - " + codec->doc + " (how the cache stores '" + codec->type + "' artifacts)\n\n" +
           provenance({std::string(codec_kind), codec->type});
  return {};
}

std::string params_table(const std::vector<ParamSpec>& params) {
  std::ostringstream out;
  out << "Parameters:\n";
  if (params.empty()) out << "  (none)\n";
  for (const auto& p : params) {
    std::string status = p.default_value ? "default " + p.default_value->str()
                         : p.optional    ? "optional"
                                         : "required";
    if (p.default_value && p.default_value->is_string()) status = "default '" + p.default_value->as_string() + "'";
    out << "  " << pad(p.name, 14) << pad(to_string(p.type), 7) << pad(status, 20) << p.doc << "\n";
    const std::string constraint = describe_constraint(p);
    if (!constraint.empty()) out << "  " << std::string(14 + 7 + 20, ' ') << constraint << "\n";
  }
  return out.str();
}

}  // namespace pipeline
