// Plan: a validated experiment, ready to run. Building one checks everything that can be known
// before running and reports every problem at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/error.hpp"
#include "pipeline/params.hpp"
#include "pipeline/schema.hpp"
#include "plugin/plugin_set.hpp"

namespace pipeline {

struct PlannedInput {
  std::string port;           // the consuming stage's input port
  std::size_t producer;       // index into Plan::stages
  std::string producer_port;  // the producing stage's output port
};

struct PlannedStage {
  std::string id;
  const RegisteredStage* type = nullptr;
  Params params;
  Location location;  // of the stage's key in the config
  std::vector<PlannedInput> inputs;
  std::uint64_t seed = 0;
  // The registered extensions whose code the instance runs (layer types of a model, the chosen
  // optimizer, the codecs of its outputs): see declared_extensions().
  std::vector<ExtensionRef> extensions;
  // The fingerprint of every file the key covers, by parameter (and "file:PATH" for
  // StageInfo::files): content digests, or a folder's listing digest.
  Value files = Value::map();
  // Content key: SHA-256 of the stage type (name, version, build id, plugin binary), the core
  // library's binary, the plugin of every extension it uses, its canonical parameters, its input
  // files, the keys of its inputs, and its seed. Equal keys mean equal outputs.
  std::string key;
};

// What a stage instance declares it uses: StageInfo::extensions, every parameter declared with
// param_registered, and the codec of each output port's type. Sorted, without duplicates.
std::vector<ExtensionRef> declared_extensions(const StageInfo& info, const Params& params);
// "layer type conv2d", "optimizer adam", "codec for model": how messages name an extension.
std::string describe_extension(const ExtensionRef& ref);

struct Plan {
  std::string experiment;
  std::string file;
  std::uint64_t seed = 0;
  std::optional<std::uint64_t> trial_seed;  // a sweep's seed for this trial
  std::vector<PlannedStage> stages;  // in a topological order: producers before consumers
};

// A `--set STAGE.PARAM=VALUE` override, applied before validation.
struct Override {
  std::string stage;
  std::string param;
  Value value;                  // parsed as YAML, located at the command line or the sweep block
  std::string origin = "--set";  // where it came from, for messages
};
// Parses "STAGE.PARAM=VALUE"; throws Error(usage) when malformed.
Override parse_override(const std::string& text);

struct PlanResult {
  Plan plan;
  std::vector<Error> errors;  // sorted by location; empty when the plan is valid
  bool ok() const { return errors.empty(); }
};

// `label` is how the file is named in messages; relative paths in `path` parameters are resolved
// against `base_dir`.
PlanResult build_plan(const Value& config, const std::string& label,
                      const std::filesystem::path& base_dir, const PluginSet& plugins,
                      const std::vector<Override>& overrides = {});

// Replaces the experiment seed (and trial seed) and derives every stage's seed and key again.
void reseed(Plan& plan, std::uint64_t seed, std::optional<std::uint64_t> trial_seed = std::nullopt);

// A stage's seed: from the experiment seed, the trial's seed (sweeps) and the stage id.
std::uint64_t stage_seed(std::uint64_t experiment_seed, std::optional<std::uint64_t> trial_seed, const std::string& id);

// The content key of stage s from its type, plugin binaries, parameters, `files`, `extensions`,
// inputs' keys and seed (what compute_keys derives for every stage of a plan).
std::string stage_key(const Plan& plan, const PlannedStage& s);

// Reads FILE and builds its plan (syntax errors included in the result).
PlanResult plan_file(const std::filesystem::path& file, const PluginSet& plugins,
                     const std::vector<Override>& overrides = {});


}  // namespace pipeline
