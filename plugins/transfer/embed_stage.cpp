// embed: a dataset of a model's outputs, one row per sample, labels and classes kept. With a
// frozen backbone (truncate), its features of a dataset are computed once and come from the
// cache after that, so every stage that trains or scores a head on them (active-learning rounds,
// linear probes) skips the backbone.
#include <algorithm>
#include <memory>

#include "pipeline/sdk.hpp"
#include "transfer_stages.hpp"

namespace pipeline::transfer {
namespace {

class Embed : public Stage {
 public:
  explicit Embed(const Params& p) : params_(p) {}

  void run(StageContext& ctx) override {
    std::shared_ptr<Model> model = ctx.input_as<Model>("model")->clone();
    auto data = ctx.input_as<Dataset>("data");
    if (model->input_shape() != data->sample_shape())
      throw Error(ErrorCode::data_format, "the model takes samples of shape " + to_string(model->input_shape()) +
                                              ", the data has " + to_string(data->sample_shape()));
    const std::int64_t batch = params_.get_int("batch_size"), numel = data->sample_numel();
    std::int64_t width = 1;
    for (auto d : model->output_shape()) width *= d;
    std::vector<float> features;
    features.reserve(static_cast<std::size_t>(data->size() * width));
    Tensor x, y;
    const PrecisionScope precision(parse_precision(params_.get_string("precision")));
    for (std::int64_t begin = 0; begin < data->size(); begin += batch) {
      ctx.throw_if_stopped();
      const std::int64_t b = std::min(batch, data->size() - begin);
      Shape shape = data->sample_shape();
      shape.insert(shape.begin(), b);
      x = Tensor(shape, std::vector<float>(data->sample(begin), data->sample(begin) + b * numel));
      model->forward(x, y, Mode::eval);
      features.insert(features.end(), y.data(), y.data() + y.numel());
      ctx.progress(std::to_string(begin + b) + "/" + std::to_string(data->size()) + " samples");
    }
    ctx.log(std::to_string(data->size()) + " samples of shape " + to_string(data->sample_shape()) + " -> " +
            std::to_string(width) + " features each");
    ctx.metric("samples", Value::integer(data->size()));
    ctx.metric("features", Value::integer(width));
    ctx.set_output("data", std::make_shared<Dataset>(Tensor({data->size(), width}, std::move(features)), data->labels(),
                                                     data->class_names()));
  }

 private:
  Params params_;
};

}  // namespace

StageInfo embed_stage() {
  StageInfo info;
  info.name = "embed";
  info.doc = "a dataset of a model's outputs (e.g. a frozen backbone's features), labels kept; cached like any output";
  info.compute = true;
  info.inputs = {{"model", "model", "the model to run, in eval mode (a backbone: truncate a pretrained model)"},
                 {"data", "dataset", "the samples"}};
  info.outputs = {{"data", "dataset", "one row of the model's flattened outputs per sample, same labels and classes"}};
  info.params = {param_int("batch_size", "samples per forward pass", 256).range(1, 1 << 20), precision_param()};
  info.create = [](const Params& p) { return std::make_unique<Embed>(p); };
  info.uses_seed = [](const Params&) { return false; };  // eval mode: nothing random
  return info;
}

}  // namespace pipeline::transfer
