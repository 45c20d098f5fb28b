// The stage contract: a stage type declares typed ports and parameters (StageInfo); the core checks
// a config against them, then creates one Stage per stage instance and runs it with a StageContext.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/artifact.hpp"
#include "pipeline/error.hpp"
#include "pipeline/extensions.hpp"
#include "pipeline/params.hpp"
#include "pipeline/value.hpp"

namespace pipeline {

struct PortSpec {
  std::string name;
  std::string type;  // artifact type, e.g. "dataset"; "any" accepts every type (inputs only)
  std::string doc;
  bool optional = false;  // inputs only: may be left unconnected
  // inputs only: stands for any number of inputs of this type under names the config chooses
  // (e.g. one per arm of a comparison); `name` is then only a label for documentation.
  bool variadic = false;
};

// Collects every problem found before running, so a user sees them all at once.
class Diagnostics {
 public:
  virtual ~Diagnostics();
  virtual void error(const Location& where, const std::string& message) = 0;
};

// What a running stage can ask of the run.
class StageContext {
 public:
  virtual ~StageContext();

  virtual const std::string& stage_id() const = 0;
  // Derived from the experiment seed and the stage id: stable across runs, distinct per stage.
  virtual std::uint64_t seed() const = 0;

  virtual bool has_input(std::string_view port) const = 0;
  // The names of the connected inputs, in the order the config lists them.
  virtual std::vector<std::string> input_names() const = 0;
  // The artifact connected to an input port; throws Error(missing_input) when unconnected.
  virtual ArtifactPtr input(std::string_view port) const = 0;
  template <class T>
  std::shared_ptr<const T> input_as(std::string_view port) const;

  virtual void set_output(std::string_view port, ArtifactPtr artifact) = 0;

  // Results that go into the run's metrics.json under this stage's id. They must be a function of
  // the config and seed only, so the same run gives the same file.
  virtual void metric(std::string_view key, Value value) = 0;
  // Measurements that vary between runs (throughput, wall time): timings.json.
  virtual void timing(std::string_view key, Value value) = 0;
  // A transient status line (epoch, loss, items/s); rate-limited and shown in place on a terminal.
  virtual void progress(std::string_view status) = 0;
  // A permanent line of output, prefixed with the stage id.
  virtual void log(std::string_view line) = 0;

  // True once the user asked the run to stop (SIGINT). Long loops check it between steps.
  virtual bool stop_requested() const = 0;
  // Throws Error(cancelled) when a stop was requested.
  void throw_if_stopped() const;

  // A directory of this stage's own in the run record, created on first use.
  virtual std::filesystem::path work_dir() = 0;
  // A result for the person who ran the experiment (a comparison table): printed on stdout when
  // the run ends, also under --quiet and when the stage comes from the cache, and kept in the
  // run record's results.txt. Unlike metric(), the text may hold measurements (training time).
  // Contexts that do not collect results (older ones) log it.
  virtual void result(std::string_view text);
  // A seed derived from the experiment's (or the sweep trial's) seed and `name`, not from the stage
  // id: stages that must draw the same numbers agree on a name (every client of one federated
  // partition computes the same partition, and a new trial seed gives a new one). Contexts that
  // predate it derive it from seed(), which is then not shared.
  virtual std::uint64_t shared_seed(std::string_view name) const;
};

class Stage {
 public:
  virtual ~Stage();
  virtual void run(StageContext& context) = 0;
};

struct StageInfo {
  std::string name;  // the stage type, used as `plugin:` in YAML
  std::string doc;   // one line
  std::vector<PortSpec> inputs;
  std::vector<PortSpec> outputs;
  std::vector<ParamSpec> params;
  // The stage keeps all cores busy (oneDNN); the scheduler runs such stages one at a time so they
  // do not oversubscribe the machine, while other stages overlap them.
  bool compute = false;
  // Outputs may be stored in the content-addressed cache and reused when the stage's key (type,
  // parameters, inputs, seed) recurs. False for stages run for their side effects (writing files).
  bool cacheable = true;
  std::function<std::unique_ptr<Stage>(const Params&)> create;
  // Whether the stage's result depends on its seed with these parameters (null: always). A stage
  // that draws nothing at random is then shared by trials that differ only in their seed.
  std::function<bool(const Params&)> uses_seed;
  // Optional checks beyond the schema, run during validation (e.g. shape inference).
  std::function<void(const Params&, Diagnostics&)> check;
  // The registered extensions (layer types, optimizers, codecs) whose code the stage runs with
  // these parameters, beyond parameters declared with param_registered (covered already): the
  // content key covers each one's plugin. A model stage lists the layer types of its `layers:`.
  // The runner checks it: a stage that looks up an extension it did not declare is not cached.
  std::function<std::vector<ExtensionRef>(const Params&)> extensions;
  // Files and folders the stage reads besides its .existing() path parameters (a model's
  // architecture file, an image folder): the content key covers each (every file in a folder,
  // recursively, by size and modification time), so editing one reruns the stage.
  std::function<std::vector<std::filesystem::path>(const Params&)> files;
  // Parameter maps with which the testkit and `pipeline check-plugin` can run the stage on
  // synthetic inputs (needed when a parameter is required). Empty: the defaults.
  std::vector<Value> examples;
};

template <class T>
std::shared_ptr<const T> StageContext::input_as(std::string_view port) const {
  ArtifactPtr a = input(port);
  auto typed = std::dynamic_pointer_cast<const T>(a);
  if (!typed)
    throw Error(ErrorCode::internal, "input '" + std::string(port) + "' holds a '" + a->type() +
                                         "' artifact of an unexpected C++ type");
  return typed;
}

}  // namespace pipeline
