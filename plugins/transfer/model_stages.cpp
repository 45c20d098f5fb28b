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
    std::ptrdiff_t index = -1;
    if (params_.has("layer")) {
      index = model->find(params_.get_string("layer"));
      if (index < 0)
        throw Error(ErrorCode::config_schema, "the model has no layer '" + params_.get_string("layer") + "'",
                    params_.location("layer"));
    } else {
      for (std::size_t i = model->size(); i-- > 0 && index < 0;)
        if (model->layer(i).type() == "linear") index = static_cast<std::ptrdiff_t>(i);
      if (index < 0) throw Error(ErrorCode::config_schema, "the model has no linear layer to replace");
    }
    const auto i = static_cast<std::size_t>(index);
    const Layer& old = model->layer(i);
    if (old.type() != "linear")
      throw Error(ErrorCode::config_schema, "replace_head replaces a linear layer; '" + old.name() + "' is " + old.type(),
                  params_.location("layer"));
    const LayerInfo* linear = find_layer_type("linear");
    if (!linear) throw Error(ErrorCode::internal, "no 'linear' layer type is registered");
    Value given = Value::map();
    given.set("out", Value::integer(params_.get_int("classes")));
    given.set("bias", Value::boolean(old.parameters().size() > 1));
    ThrowingDiagnostics diag;
    const Params head_params = check_params(linear->params, given, "replace_head", {}, "/", diag);
    const Shape in = i == 0 ? model->input_shape() : model->output_shape_of(i - 1);
    const std::string name = params_.get_string("name").empty() ? old.name() : params_.get_string("name");
    auto head = linear->create(name, head_params, in);
    Rng rng(ctx.seed());
    head->initialize(rng);
    // Model::replace destroys the old layer: take what the log line needs first.
    const std::string old_name = old.name();
    model->replace(i, std::move(head));
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
      param_string("layer", "the layer to replace; default: the last linear layer").optional_value(),
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
