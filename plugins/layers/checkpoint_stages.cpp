// save_model / load_model: checkpoints in safetensors with PyTorch's names and layouts
// ("conv1.weight" OIHW, "fc.weight" [out, in], "rnn.weight_ih_l0" ...), so PyTorch reads ours and
// we read PyTorch's.
#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "pipeline/safetensors.hpp"
#include "pipeline/sdk.hpp"
#include "stages.hpp"

namespace pipeline::layers {
namespace {

bool matches_any(const std::string& name, const std::vector<std::string>& globs) {
  for (const auto& g : globs)
    if (fnmatch(g.c_str(), name.c_str(), 0) == 0) return true;
  return false;
}

class SaveModel : public Stage {
 public:
  explicit SaveModel(const Params& p) : path_(p.get_path("path")) {}
  void run(StageContext& ctx) override {
    auto input = ctx.input_as<Model>("model");
    std::shared_ptr<Model> model = input->clone();  // named_parameters() needs a mutable model
    std::vector<std::pair<std::string, const Tensor*>> tensors;
    std::set<std::string> integers;  // num_batches_tracked: int64 in PyTorch's state_dict
    for (const auto& np : model->named_parameters()) {
      tensors.emplace_back(np.name, &np.param->value);
      if (np.param->integer) integers.insert(np.name);
    }
    if (!path_.parent_path().empty()) std::filesystem::create_directories(path_.parent_path());
    write_safetensors(path_, tensors, {{"format", "pt"}, {"writer", "pipeline " PIPELINE_VERSION_STRING}}, integers);
    ctx.log("saved " + std::to_string(tensors.size()) + " tensors to " + path_.string());
    ctx.metric("tensors", Value::integer(static_cast<std::int64_t>(tensors.size())));
  }

 private:
  std::filesystem::path path_;
};

class LoadModel : public Stage {
 public:
  explicit LoadModel(const Params& p)
      : path_(p.get_path("path")), prefix_(p.get_string("prefix")), strict_(p.get_bool("strict")),
        ignore_(p.get_string_list("ignore")) {}

  void run(StageContext& ctx) override {
    auto input = ctx.input_as<Model>("model");
    std::shared_ptr<Model> model = input->clone();
    const SafetensorsFile file = read_safetensors(path_);
    std::vector<std::string> problems;
    std::set<std::string> used;
    std::int64_t loaded = 0;
    for (auto& np : model->named_parameters()) {
      const std::string key = prefix_ + np.name;
      const SafetensorsEntry* t = file.find(key);
      if (!t) {
        // As PyTorch's BatchNorm loads checkpoints from before it tracked batches, a missing
        // count is not an error.
        if (strict_ && !np.param->integer) problems.push_back("missing tensor '" + key + "'");
        continue;
      }
      used.insert(key);
      if (t->shape != np.param->value.shape()) {
        problems.push_back("tensor '" + key + "' has shape " + to_string(t->shape) + ", the model's " + np.name +
                           " is " + to_string(np.param->value.shape()));
        continue;
      }
      if (np.param->integer && t->dtype == "I64") {
        std::vector<float> values;
        for (auto v : t->i64) values.push_back(static_cast<float>(v));
        np.param->value.values() = std::move(values);
      } else if (t->dtype == "F32") {
        np.param->value.values() = t->f32;
      } else {
        problems.push_back("tensor '" + key + "' is " + t->dtype + ", expected " + (np.param->integer ? "I64" : "F32"));
        continue;
      }
      // Weights that are not numbers would train and score as garbage: refuse them here.
      if (std::any_of(np.param->value.values().begin(), np.param->value.values().end(),
                      [](float v) { return !std::isfinite(v); })) {
        problems.push_back("tensor '" + key + "' holds NaN or infinite values");
        continue;
      }
      ++loaded;
    }
    for (const auto& t : file.tensors)
      if (!used.count(t.name) && !matches_any(t.name, ignore_) && strict_)
        problems.push_back("unexpected tensor '" + t.name + "' (not in the model; list it in 'ignore' to skip it)");
    if (!problems.empty()) {
      std::string message = path_.string() + " does not fit the model:";
      for (const auto& p : problems) message += "\n  " + p;
      throw Error(ErrorCode::data_format, message);
    }
    ctx.log("loaded " + std::to_string(loaded) + " tensors from " + path_.string());
    ctx.metric("loaded", Value::integer(loaded));
    ctx.set_output("model", std::shared_ptr<const Model>(model));
  }

 private:
  std::filesystem::path path_;
  std::string prefix_;
  bool strict_;
  std::vector<std::string> ignore_;
};

}  // namespace

StageInfo save_model_stage() {
  StageInfo info;
  info.name = "save_model";
  info.doc = "write a model's parameters as safetensors with PyTorch's names and layouts (atomically)";
  info.inputs = {{"model", "model", "the model to save"}};
  info.params = {param_path("path", "the .safetensors file to write")};
  info.cacheable = false;  // run for the file it writes
  info.create = [](const Params& p) { return std::make_unique<SaveModel>(p); };
  return info;
}

StageInfo load_model_stage() {
  StageInfo info;
  info.name = "load_model";
  info.doc = "fill a model's parameters from a safetensors file with PyTorch's names (e.g. from PyTorch)";
  info.inputs = {{"model", "model", "a model of the right architecture (e.g. from the model stage)"}};
  info.outputs = {{"model", "model", "the model with the loaded parameters"}};
  info.params = {
      param_path("path", "the .safetensors file to read").existing(),
      param_string("prefix", "prepended to each of the model's names to find its tensor, e.g. 'backbone.'",
                   std::string("")),
      param_bool("strict", "every parameter must be in the file and every tensor in the model", true),
      param_list("ignore", "names (globs) of tensors in the file that are not parameters", ParamType::string,
                 Value::list()),
  };
  info.create = [](const Params& p) { return std::make_unique<LoadModel>(p); };
  info.uses_seed = [](const Params&) { return false; };  // nothing random: shared across seeds
  return info;
}

}  // namespace pipeline::layers
