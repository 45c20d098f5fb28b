// Human-readable descriptions of plugins and stage types, for `pipeline plugins` and `inspect`.
#pragma once

#include <string>

#include "plugin/plugin_set.hpp"

namespace pipeline {

// Every plugin: name, version, file, and the stage types it registers.
std::string describe_plugins(const PluginSet& plugins);
// One stage type: doc, plugin, ports, and every parameter with type, default, range and doc.
std::string describe_stage(const RegisteredStage& stage);
// One layer type: doc, the plugin and file that provide it, and every parameter (plus `name`,
// which every layer takes).
std::string describe_layer(const LayerInfo& layer);
std::string describe_optimizer(const OptimizerInfo& optimizer);
// The layer type, optimizer or codec called `name`, in that order; "" when none is registered.
std::string describe_extension_named(const std::string& name);
// One schema line's constraint text: "range [0, 1]", "choices: a, b", "" when none.
std::string describe_constraint(const ParamSpec& spec);

}  // namespace pipeline
