// A plan written out and read back, so that another process (a Slurm job on another node) can run
// instances of it without planning the experiment again: every stage instance with its type,
// checked parameters, inputs, seed, file fingerprints, extensions, content key, and the SHA-256 of
// every binary the key covers. Reading it back checks that this process loaded the same binaries:
// a node with another build refuses, naming the plugin, instead of filling the cache with results
// under keys that do not describe them.
#pragma once

#include <filesystem>

#include "plan/plan.hpp"
#include "plugin/plugin_set.hpp"

namespace pipeline {

Value plan_to_json(const Plan& plan);
void write_plan_file(const std::filesystem::path& file, const Plan& plan);

// Throws Error(plugin_abi) when a stage type is missing here or a binary differs from the one the
// plan was made with, Error(data_format) when the file is not a plan.
Plan plan_from_json(const Value& json, const PluginSet& plugins);
Plan read_plan_file(const std::filesystem::path& file, const PluginSet& plugins);

}  // namespace pipeline
