// model: builds a Model from a `layers:` list, a built-in architecture (torchvision's module tree
// and names: resnet18, resnet34, resnet50, mobilenet_v2) or a YAML file of layers, with shapes
// inferred and checked before the run, initialised as PyTorch's defaults from the stage's seed.
#include <filesystem>

#include "architectures/architectures.hpp"
#include "pipeline/model_builder.hpp"
#include "pipeline/schema.hpp"
#include "pipeline/sdk.hpp"
#include "stages.hpp"

namespace pipeline::layers {
namespace {

Shape input_shape(const Params& p) {
  Shape s;
  for (auto d : p.get_int_list("input")) s.push_back(d);
  return s;
}

bool names_file(const std::string& architecture) {
  const auto ext = std::filesystem::path(architecture).extension();
  return ext == ".yaml" || ext == ".yml";
}

// An architecture file, relative to the experiment file that names it.
std::filesystem::path architecture_file(const Params& p) {
  std::filesystem::path file = p.get_string("architecture");
  if (file.is_relative()) file = std::filesystem::path(p.location("architecture").file).parent_path() / file;
  return file.lexically_normal();
}

// The layers list the parameters describe.
Value layers_of(const Params& p) {
  if (p.has("layers")) return p.get("layers");
  const std::string& name = p.get_string("architecture");
  if (names_file(name)) {
    const auto file = architecture_file(p);
    std::error_code ec;
    if (!std::filesystem::exists(file, ec))
      throw Error(ErrorCode::config_schema, "architecture file " + file.string() + " does not exist", p.location("architecture"));
    const Value doc = parse_yaml_file(file.string());
    const Value* layers = doc.is_map() ? doc.find("layers") : nullptr;
    if (!layers || !layers->is_list())
      throw Error(ErrorCode::config_schema, file.string() + ": an architecture file needs a 'layers:' list", doc.location());
    return *layers;
  }
  ArchitectureOptions options;
  if (p.has("classes")) options.classes = p.get_int("classes");
  Value layers = architecture_layers(name, options);
  return layers.at(p.location("architecture"));
}

class ModelStage : public Stage {
 public:
  explicit ModelStage(const Params& p) : params_(p) {}
  void run(StageContext& ctx) override {
    ThrowingDiagnostics diag;
    std::unique_ptr<Model> model = build_model(input_shape(params_), layers_of(params_), diag);
    Rng rng(ctx.seed());
    for (std::size_t i = 0; i < model->size(); ++i) model->layer(i).initialize(rng);
    ctx.log(model->table());
    ctx.metric("parameters", Value::integer(model->parameter_count()));
    ctx.set_output("model", std::shared_ptr<const Model>(std::move(model)));
  }

 private:
  Params params_;
};

void check_model(const Params& p, Diagnostics& diag) {
  if (p.get("input").items().empty()) {
    diag.error(p.location("input"), "parameter 'input' needs at least one dimension");
    return;
  }
  const bool layers = p.has("layers"), architecture = p.has("architecture");
  if (layers == architecture) {
    diag.error(layers ? p.location("architecture") : p.location("input"),
               layers ? "give 'layers' or 'architecture', not both" : "give 'layers' (a list) or 'architecture' (a name or a .yaml file)");
    return;
  }
  if (p.has("classes") && !architecture) diag.error(p.location("classes"), "'classes' applies to 'architecture', not to 'layers'");
  if (architecture && p.has("classes") && names_file(p.get_string("architecture")))
    diag.error(p.location("classes"), "'classes' applies to built-in architectures; a file's layers fix the outputs");
  try {
    build_model(input_shape(p), layers_of(p), diag);
  } catch (const Error& e) {
    diag.error(e.location().known() ? e.location() : p.location(architecture ? "architecture" : "layers"), e.message());
  }
}

}  // namespace

StageInfo model_stage() {
  StageInfo info;
  info.name = "model";
  info.doc = "build a model from a list of layers or an architecture (resnet18, ...); shapes are checked before the run";
  info.outputs = {{"model", "model", "the initialised model"}};
  std::string names;
  for (const auto& n : architecture_names()) names += (names.empty() ? "" : ", ") + n;
  info.params = {
      param_list("input", "shape of one input sample, e.g. [1, 28, 28] or [3, 224, 224]", ParamType::integer).range(1, 1 << 24),
      param_list("layers", "layers in order: a type (relu) or {type: {name: ..., params...}}", ParamType::any).optional_value(),
      param_string("architecture", "instead of layers: " + names + " (torchvision's modules and names), or a .yaml file with a layers: list")
          .optional_value(),
      param_int("classes", "outputs of a built-in architecture's classifier (default 1000)").range(1, 1 << 24).optional_value(),
  };
  info.create = [](const Params& p) { return std::make_unique<ModelStage>(p); };
  info.check = check_model;
  info.extensions = [](const Params& p) { return layer_types_of(layers_of(p)); };
  info.files = [](const Params& p) {
    std::vector<std::filesystem::path> files;
    if (p.has("architecture") && names_file(p.get_string("architecture"))) files.push_back(architecture_file(p));
    return files;
  };
  info.examples = {parse_value("{input: [1, 8, 8], layers: [{conv2d: {out: 4, kernel: 3}}, relu, flatten, {linear: {out: 3}}]}"),
                   parse_value("{input: [3, 32, 32], architecture: resnet18, classes: 3}")};
  return info;
}

}  // namespace pipeline::layers
