// The testkit for plugin authors (library Pipeline::testing): a gradient check against finite
// differences, synthetic datasets and models, a harness that runs one stage outside an experiment,
// and the conformance checks that `pipeline check-plugin` runs on every type a plugin registers.
//
//   pipeline::testing::Harness kit({"path/to/pipeline_myplugin.so"});
//   auto result = kit.check_layer_type("elu");        // schema, shapes, clone, gradients
//   REQUIRE(result.ok());                              // result.text() says what failed
//   auto run = kit.run_stage("binarize", pipeline::parse_value("{threshold: 0.3}"),
//                            {{"data", pipeline::testing::make_dataset({1, 4, 4}, 2, 5)}});
//   CHECK(run.metrics.find("fraction_on")->as_float() > 0);
//
// Nothing here needs a test framework; every check returns a CheckResult to assert on.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/dataset.hpp"
#include "pipeline/layer.hpp"
#include "pipeline/metrics.hpp"
#include "pipeline/model.hpp"
#include "pipeline/precision.hpp"
#include "pipeline/stage.hpp"

namespace pipeline::testing {

// What a check found: one line per failure (e.g. "backward: input gradient differs from finite
// differences: max rel err 4.7e-01 at index 17 ..."), and notes on what was checked or skipped.
struct CheckResult {
  std::vector<std::string> failures;
  std::vector<std::string> notes;
  bool ok() const { return failures.empty(); }
  // The failures, then the notes, one per line.
  std::string text() const;
  void fail(std::string line) { failures.push_back(std::move(line)); }
  void note(std::string line) { notes.push_back(std::move(line)); }
  // Appends another result's lines, each prefixed (e.g. "example 2: ").
  void merge(const CheckResult& other, const std::string& prefix = "");
};

// Central finite differences of L = sum(forward(x) * R) for a fixed random R, accumulated in
// float64, against the layer's backward: for the input and every trainable parameter. A
// coordinate where differences at eps and eps/2 disagree sits on a kink (relu at 0, a max that
// changes) and is skipped; more than half skipped is a failure.
struct GradientCheckOptions {
  std::int64_t batch = 2;
  double rtol = 1e-2;          // pass when |analytic - numeric| <= atol + rtol * |numeric|
  double atol = 1e-3;
  double eps = 1e-2;           // at most; smaller when the inputs are closely spaced
  int max_coordinates = 48;    // per tensor; a seeded random subset of larger ones
  std::uint64_t seed = 1;      // inputs, R and the subset
};
CheckResult check_layer_gradients(Layer& layer, const Shape& sample, const GradientCheckOptions& options = {});

// A registered layer type against its plain twin (LayerInfo::reference), both made from the same
// parameters and parameter values, at one compute precision: on the same seeded input, the
// training and evaluation outputs, then from the same seeded output gradient the input gradient
// and every trainable parameter's gradient. Passes when |optimised - reference| <= tolerance *
// (1 + max |reference|) for every element of each tensor. A type without a reference fails.
struct ReferenceCheckOptions {
  std::int64_t batch = 2;
  double tolerance = 1e-4;   // f32; bf16 twins round as the optimised layer does, so it holds too
  std::uint64_t seed = 1;
};
CheckResult check_layer_against_reference(const std::string& type, const Value& params, const Shape& sample,
                                          Precision precision, const ReferenceCheckOptions& options = {});

// A layer of a registered type from parameters as written in YAML (checked against its schema),
// initialised from `seed`. Throws Error when the parameters or the shape do not fit.
std::unique_ptr<Layer> make_layer(const std::string& type, const Value& params, const Shape& sample,
                                  std::uint64_t seed = 1);

// `classes` x `per_class` samples of shape `sample`, labels in class order, features drawn per
// class around a class-specific mean (so a model can learn them), from `seed`.
std::shared_ptr<Dataset> make_dataset(const Shape& sample, std::int64_t classes, std::int64_t per_class,
                                      std::uint64_t seed = 1);
// A model from a `layers:` list as written in YAML (e.g. parse_value("[flatten, {linear: {out: 3}}]")),
// initialised from `seed` as the model stage would.
std::shared_ptr<Model> make_model(const Shape& input, const Value& layers, std::uint64_t seed = 1);
std::shared_ptr<Metrics> make_metrics(const Value& values);

// What one stage run produced.
struct StageRun {
  std::map<std::string, ArtifactPtr> outputs;
  Value metrics = Value::map();
  Value timings = Value::map();
  std::vector<std::string> logs;
  std::vector<std::string> results;  // StageContext::result texts
  template <class T>
  std::shared_ptr<const T> output_as(const std::string& port) const {
    auto it = outputs.find(port);
    return it == outputs.end() ? nullptr : std::dynamic_pointer_cast<const T>(it->second);
  }
};

class Harness {
 public:
  // Loads `plugins` (files or directories) as `pipeline --plugin-path` would, then, unless
  // `with_builtin` is false, the built-in plugins installed beside the core library.
  explicit Harness(std::vector<std::filesystem::path> plugins = {}, bool with_builtin = true);
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // The loader's refusals, formatted as `pipeline` prints them (empty when all loaded).
  std::vector<std::string> load_errors() const;
  std::vector<std::string> stage_types() const;
  // The types one loaded plugin registered, by plugin name: empty when no such plugin.
  struct PluginTypes {
    std::string name, version, file;
    std::vector<std::string> stages, layers, optimizers, codecs;
  };
  std::vector<PluginTypes> plugins() const;

  // Checks `params` as `pipeline validate` would (schema, then the type's own check) and runs the
  // stage on `inputs` with an in-memory context. Throws Error(config_schema) with every problem on
  // invalid parameters, and the stage's own Error when it fails.
  StageRun run_stage(const std::string& type, const Value& params = Value::map(),
                     const std::map<std::string, ArtifactPtr>& inputs = {}, std::uint64_t seed = 1);

  // Conformance: everything `pipeline check-plugin` checks of one registered type.
  // Stage types: the schema; then, for each StageInfo::examples entry (or the defaults), a run on
  // synthetic inputs of its port types (dataset, model, metrics), every output present and of its
  // declared type, each output through its codec and back, and the metrics identical on a second
  // run with the same seed.
  CheckResult check_stage_type(const std::string& type);
  // Layer types: the schema; at each LayerInfo::examples entry (or conventional shapes), forward
  // shapes against output_shape, a deep clone() that keeps spec, train and eval agreeing when the
  // layer says they do, check_layer_gradients, and with a LayerInfo::reference
  // check_layer_against_reference in f32 and bf16.
  CheckResult check_layer_type(const std::string& type, const GradientCheckOptions& options = {});
  // Optimizers: the schema; steps with the defaults decrease a quadratic, leave frozen parameters
  // and buffers alone, and repeat exactly.
  CheckResult check_optimizer(const std::string& name);
  // Every type of one loaded plugin (by name), or only those named in the filters.
  CheckResult check_plugin(const std::string& plugin_name, const std::vector<std::string>& layers = {},
                           const std::vector<std::string>& stages = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pipeline::testing
