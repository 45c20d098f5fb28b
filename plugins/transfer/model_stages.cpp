// freeze, unfreeze, replace_head, truncate: stages that change a model's structure or which of
// its parameters train. Each outputs a changed copy; the input model stays as it was.
#include "layer_selection.hpp"
#include "pipeline/schema.hpp"
#include "pipeline/sdk.hpp"
#include "transfer_stages.hpp"

namespace pipeline::transfer {
namespace {

class SetTrainable : public Stage {
 public:
  SetTrainable(const Params& p, bool trainable) : params_(p), trainable_(trainable) {}
  void run(StageContext& ctx) override {
    std::shared_ptr<Model> model = ctx.input_as<Model>("model")->clone();
    const bool freeze_bn = params_.has("bn") && params_.get_string("bn") == "frozen";
    std::string names;
    for (const auto& selected : select_modules(*model, params_)) {
      // A block acts on every layer inside it.
      visit_layers(*selected.layer, selected.path, 0, [&](const std::string&, Layer& layer, int) {
        for (auto& p : layer.parameters()) p.trainable = trainable_ && !p.buffer;
        // Batch normalization in a frozen layer: running statistics (bn: frozen) or batch ones.
        layer.freeze_statistics(!trainable_ && freeze_bn);
      });
      names += (names.empty() ? "" : ", ") + selected.path;
    }
    ctx.log(std::string(trainable_ ? "unfroze " : "froze ") + (names.empty() ? "no layers" : names) + "; " +
            std::to_string(model->parameter_count(true)) + " of " + std::to_string(model->parameter_count()) +
            " parameters train");
    ctx.metric("trainable_parameters", Value::integer(model->parameter_count(true)));
    ctx.set_output("model", std::shared_ptr<const Model>(model));
  }

 private:
  Params params_;
  bool trainable_;
};

class ReplaceHead : public Stage {
 public:
  explicit ReplaceHead(const Params& p) : params_(p) {}
  void run(StageContext& ctx) override {
    std::shared_ptr<Model> model = ctx.input_as<Model>("model")->clone();
    // The head by path ("fc", "classifier.1"), else the last linear module anywhere.
    std::string path;
    const Layer* old = nullptr;
    for (const auto& m : model->modules())
      if (params_.has("layer") ? m.path == params_.get_string("layer") : m.layer->type() == "linear") {
        path = m.path;
        old = m.layer;
      }
    if (!old)
      throw Error(ErrorCode::config_schema,
                  params_.has("layer") ? "the model has no layer '" + params_.get_string("layer") + "'"
                                       : std::string("the model has no linear layer to replace"),
                  params_.has("layer") ? params_.location("layer") : Location{});
    if (old->type() != "linear")
      throw Error(ErrorCode::config_schema, "replace_head replaces a linear layer; '" + path + "' is " + old->type(),
                  params_.location("layer"));
    const LayerInfo* linear = find_layer_type("linear");
    if (!linear) throw Error(ErrorCode::internal, "no 'linear' layer type is registered");
    Value given = Value::map();
    given.set("out", Value::integer(params_.get_int("classes")));
    given.set("bias", Value::boolean(old->parameters().size() > 1));
    ThrowingDiagnostics diag;
    const Params head_params = check_params(linear->params, given, "replace_head", {}, "/", diag);
    const Shape in = model->input_shape_of(path);
    const std::string name = params_.get_string("name").empty() ? old->name() : params_.get_string("name");
    auto head = linear->create(name, head_params, in);
    Rng rng(ctx.seed());
    head->initialize(rng);
    // Model::replace destroys the old layer: take what the log line needs first.
    const std::string old_name = path;
    model->replace(path, std::move(head));
    ctx.log("replaced '" + old_name + "' with a fresh linear '" + name + "' of " +
            std::to_string(params_.get_int("classes")) + " outputs");
    ctx.set_output("model", std::shared_ptr<const Model>(model));
  }

 private:
  Params params_;
};

class Truncate : public Stage {
 public:
  explicit Truncate(const Params& p) : params_(p) {}
  void run(StageContext& ctx) override {
    std::shared_ptr<Model> model = ctx.input_as<Model>("model")->clone();
    const std::ptrdiff_t i = model->find(params_.get_string("after"));
    if (i < 0)
      throw Error(ErrorCode::config_schema, "the model has no layer '" + params_.get_string("after") + "'",
                  params_.location("after"));
    model->truncate_after(static_cast<std::size_t>(i));
    ctx.log("kept layers up to '" + params_.get_string("after") + "': outputs " + to_string(model->output_shape()));
    ctx.set_output("model", std::shared_ptr<const Model>(model));
  }

 private:
  Params params_;
};

StageInfo set_trainable_stage(bool trainable) {
  StageInfo info;
  info.name = trainable ? "unfreeze" : "freeze";
  info.doc = trainable ? "make the selected layers' parameters train again"
                       : "stop the selected layers' parameters from training (no update, no gradient)";
  info.inputs = {{"model", "model", "the model"}};
  info.outputs = {{"model", "model", "a copy with the selected layers changed"}};
  info.params = selection_params();
  if (!trainable)
    info.params.push_back(param_enum("bn", "batch normalization in frozen layers: running statistics, not updated "
                                           "(frozen), or batch statistics and updates (update)",
                                     {"frozen", "update"}, std::string("frozen")));
  info.create = [trainable](const Params& p) { return std::make_unique<SetTrainable>(p, trainable); };
  info.uses_seed = [](const Params&) { return false; };  // nothing random: shared across seeds
  info.check = check_selection;
  info.examples = {parse_value("{all_but_last: 1}"), parse_value("{layers: ['conv*']}")};
  return info;
}

}  // namespace

StageInfo freeze_stage() { return set_trainable_stage(false); }
StageInfo unfreeze_stage() { return set_trainable_stage(true); }

StageInfo replace_head_stage() {
  StageInfo info;
  info.name = "replace_head";
  info.doc = "replace a linear layer (by default the last) with a fresh one of a new output size";
  info.inputs = {{"model", "model", "the model"}};
  info.outputs = {{"model", "model", "a copy with the new head, initialised from the stage's seed"}};
  info.params = {
      param_int("classes", "outputs of the new layer").range(1, 1 << 24),
      param_string("layer", "the layer to replace, by module path (fc, classifier.1); default: the last linear layer").optional_value(),
      param_string("name", "name of the new layer; default: the replaced layer's", std::string("")),
  };
  info.create = [](const Params& p) { return std::make_unique<ReplaceHead>(p); };
  info.extensions = [](const Params&) { return std::vector<ExtensionRef>{{std::string(layer_kind), "linear"}}; };
  info.examples = {parse_value("{classes: 2}")};
  return info;
}

StageInfo truncate_stage() {
  StageInfo info;
  info.name = "truncate";
  info.doc = "cut a model after a named layer, e.g. to make a feature extractor";
  info.inputs = {{"model", "model", "the model"}};
  info.outputs = {{"model", "model", "a copy with the layers up to 'after'"}};
  info.params = {param_string("after", "the last layer to keep")};
  info.create = [](const Params& p) { return std::make_unique<Truncate>(p); };
  info.examples = {parse_value("{after: flatten3}")};
  info.uses_seed = [](const Params&) { return false; };  // nothing random: shared across seeds
  return info;
}

}  // namespace pipeline::transfer
