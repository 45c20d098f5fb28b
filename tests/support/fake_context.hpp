// A StageContext for calling stages and the training loop directly in tests: inputs from a map,
// outputs, metrics and logs captured.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pipeline/rng.hpp"
#include "pipeline/stage.hpp"

namespace test {

class FakeContext : public pipeline::StageContext {
 public:
  explicit FakeContext(std::uint64_t seed = 1, std::string id = "stage") : seed_(seed), id_(std::move(id)) {}

  std::map<std::string, pipeline::ArtifactPtr> inputs;
  std::map<std::string, pipeline::ArtifactPtr> outputs;
  pipeline::Value metrics = pipeline::Value::map();
  std::vector<std::string> logs;

  const std::string& stage_id() const override { return id_; }
  std::uint64_t seed() const override { return seed_; }
  // As in a run: from the experiment seed and the name, the same for every stage.
  std::uint64_t experiment_seed = 0;
  std::uint64_t shared_seed(std::string_view name) const override {
    return pipeline::derive_seed(experiment_seed, "shared:" + std::string(name));
  }
  bool has_input(std::string_view port) const override { return inputs.count(std::string(port)) > 0; }
  std::vector<std::string> input_names() const override {
    std::vector<std::string> names;
    for (const auto& [name, _] : inputs) names.push_back(name);
    return names;
  }
  pipeline::ArtifactPtr input(std::string_view port) const override { return inputs.at(std::string(port)); }
  void set_output(std::string_view port, pipeline::ArtifactPtr a) override { outputs[std::string(port)] = std::move(a); }
  void metric(std::string_view key, pipeline::Value v) override { metrics.set(std::string(key), std::move(v)); }
  void timing(std::string_view, pipeline::Value) override {}
  void progress(std::string_view) override {}
  void log(std::string_view line) override { logs.emplace_back(line); }
  bool stop_requested() const override { return false; }
  std::filesystem::path work_dir() override { return std::filesystem::temp_directory_path(); }

 private:
  std::uint64_t seed_;
  std::string id_;
};

// A stage type's defaults overlaid with the parameters written as YAML ("{clients: 2}"), as the
// planner would check them.
inline pipeline::Params params_of(const pipeline::StageInfo& info, const std::string& yaml) {
  pipeline::Value v = pipeline::Value::map();
  for (const auto& spec : info.params)
    if (spec.default_value) v.set(spec.name, *spec.default_value);
  const pipeline::Value given = pipeline::parse_value(yaml);
  for (const auto& [k, value] : given.entries()) v.set(k, value);
  return pipeline::Params(v);
}

}  // namespace test
