// Registered extensions: the layer types, optimizers and codecs that plugins add. A stage's content
// key covers the plugin of every extension its result depends on, so a rebuilt layer plugin
// invalidates the models built from its layers and everything downstream of them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pipeline {

// Kinds of registered extension, as written in ExtensionRef::kind and ParamSpec::registered.
inline constexpr std::string_view layer_kind = "layer";
inline constexpr std::string_view optimizer_kind = "optimizer";
inline constexpr std::string_view codec_kind = "codec";

// One extension a stage instance uses, e.g. {"layer", "conv2d"} or {"optimizer", "adam"}.
struct ExtensionRef {
  std::string kind;
  std::string name;
  friend bool operator<(const ExtensionRef& a, const ExtensionRef& b) {
    return a.kind != b.kind ? a.kind < b.kind : a.name < b.name;
  }
  friend bool operator==(const ExtensionRef& a, const ExtensionRef& b) { return a.kind == b.kind && a.name == b.name; }
};

// The names registered under a kind, sorted (empty for an unknown kind).
std::vector<std::string> registered_names(std::string_view kind);
bool is_registered(std::string_view kind, const std::string& name);

}  // namespace pipeline
