#include "architectures.hpp"

#include "pipeline/error.hpp"
#include "pipeline/schema.hpp"

namespace pipeline::layers {

Value item(const std::string& type, const std::string& name, Value params) {
  params.set("name", Value::string(name));
  Value out = Value::map();
  out.set(type, std::move(params));
  return out;
}

std::vector<std::string> architecture_names() { return {"mobilenet_v2", "resnet18", "resnet34", "resnet50"}; }

Value architecture_layers(const std::string& name, const ArchitectureOptions& options) {
  if (name.rfind("resnet", 0) == 0 && (name == "resnet18" || name == "resnet34" || name == "resnet50"))
    return resnet_layers(name, options);
  if (name == "mobilenet_v2") return mobilenet_v2_layers(options);
  const auto names = architecture_names();
  std::string listed;
  for (const auto& n : names) listed += (listed.empty() ? "" : ", ") + n;
  const std::string hint = did_you_mean(name, names);
  throw Error(ErrorCode::config_schema, "unknown architecture '" + name + "'" + (hint.empty() ? "" : "; did you mean '" + hint + "'?") +
                                            " (built in: " + listed + "; or a .yaml file with a layers: list)");
}

}  // namespace pipeline::layers
