// Harness::check_stage_type: a stage type run on synthetic inputs, its outputs through their
// codecs, and its determinism.
#include <fstream>
#include <set>
#include <unistd.h>

#include "pipeline/codec.hpp"
#include "pipeline/json.hpp"
#include "plugin/schema_lint.hpp"
#include "testing/harness_impl.hpp"
#include "util/sha256.hpp"

namespace pipeline::testing {
namespace {

namespace fs = std::filesystem;

// A scratch directory removed when the check ends.
struct Scratch {
  fs::path dir;
  Scratch() {
    static int counter = 0;
    dir = fs::temp_directory_path() / ("pipeline-check-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

const Shape synthetic_sample = {1, 8, 8};

// An input of a port type the kit can make, or null.
ArtifactPtr synthetic_input(const std::string& type) {
  if (type == "dataset" || type == "any") return make_dataset(synthetic_sample, 3, 8);
  if (type == "metrics") return make_metrics(parse_value("{accuracy: 0.5, macro_f1: 0.5}"));
  if (type == "model") {
    if (!find_layer_type("conv2d") || !find_layer_type("linear")) return nullptr;
    return make_model(synthetic_sample, parse_value("[{conv2d: {out: 4, kernel: 3}}, relu, flatten, {linear: {out: 3}}]"));
  }
  return nullptr;
}

// Each file an encoding wrote, with its checksum.
std::map<std::string, std::string> encode(const CodecInfo& codec, const Artifact& artifact, const fs::path& dir) {
  fs::create_directories(dir);
  std::map<std::string, std::string> files;
  for (const auto& f : codec.encode(artifact, dir)) files[f] = sha256_file(dir / f);
  return files;
}

void check_codecs(const StageInfo& info, const StageRun& run, const fs::path& scratch, CheckResult& result) {
  for (const auto& port : info.outputs) {
    auto it = run.outputs.find(port.name);
    if (it == run.outputs.end()) continue;
    const CodecInfo* codec = find_codec(port.type);
    if (!codec) {
      result.note("output '" + port.name + "' (" + port.type + ") has no codec: the stage's results are not cached");
      continue;
    }
    const auto first = encode(*codec, *it->second, scratch / (port.name + "-a"));
    ArtifactPtr back = codec->decode(scratch / (port.name + "-a"));
    if (!back || back->type() != port.type) {
      result.fail("output '" + port.name + "': its codec decodes to " + (back ? "a " + back->type() : std::string("nothing")));
      continue;
    }
    if (encode(*codec, *back, scratch / (port.name + "-b")) != first)
      result.fail("output '" + port.name + "': encoded, decoded and encoded again it differs: the cache would change it");
  }
}

}  // namespace

CheckResult Harness::check_stage_type(const std::string& type) {
  CheckResult result;
  const RegisteredStage* stage = impl_->plugins.find_stage(type);
  if (!stage) {
    result.fail("no stage type '" + type + "' is loaded");
    return result;
  }
  const StageInfo& info = stage->info;
  for (const auto& p : stage_schema_problems(info)) result.fail("schema: " + p.message);
  std::vector<Value> examples = info.examples;
  const bool declared = !examples.empty();
  if (!declared) examples.push_back(Value::map());

  std::size_t index = 0;
  for (Value params : examples) {
    ++index;
    const std::string label = declared ? "example " + std::to_string(index) + ": " : std::string("defaults: ");
    Scratch scratch;
    if (!params.is_map()) {
      result.fail(label + "StageInfo::examples entries must be maps of parameters");
      continue;
    }
    // A file the stage writes goes to scratch; a required input file or value the kit cannot guess.
    std::string missing;
    for (const auto& spec : info.params) {
      if (!spec.required() || params.find(spec.name)) continue;
      if (spec.type == ParamType::path && !spec.must_exist) params.set(spec.name, Value::string((scratch.dir / ("out-" + spec.name)).string()));
      else missing += (missing.empty() ? "" : ", ") + spec.name;
    }
    if (!missing.empty()) {
      result.note(label + "not run: it needs parameter(s) " + missing + " (declare StageInfo::examples)");
      continue;
    }
    std::map<std::string, ArtifactPtr> inputs;
    std::string unmade;
    for (const auto& port : info.inputs) {
      if (port.optional) continue;
      ArtifactPtr input = synthetic_input(port.type);
      if (!input) {
        unmade += (unmade.empty() ? "" : ", ") + port.name + " (" + port.type + ")";
        continue;
      }
      if (port.variadic) {
        inputs["a"] = input;
        inputs["b"] = synthetic_input(port.type);
      } else {
        inputs[port.name] = input;
      }
    }
    if (!unmade.empty()) {
      result.note(label + "not run: the kit cannot make input(s) " + unmade);
      continue;
    }
    try {
      const StageRun first = run_stage(type, params, inputs, 7);
      for (const auto& port : info.outputs)
        if (!first.outputs.count(port.name)) result.fail(label + "output '" + port.name + "' was not produced");
      CheckResult codecs;
      check_codecs(info, first, scratch.dir, codecs);
      result.merge(codecs, label);
      const StageRun second = run_stage(type, params, inputs, 7);
      if (to_json(first.metrics) != to_json(second.metrics))
        result.fail(label + "metrics differ between two runs with the same seed: " + to_json(first.metrics) + " vs " +
                    to_json(second.metrics));
      result.note(label + "ran on synthetic inputs; outputs, codecs and determinism checked");
    } catch (const std::exception& e) {
      result.fail(label + "the stage failed on synthetic inputs: " + e.what());
    }
  }
  return result;
}

}  // namespace pipeline::testing
