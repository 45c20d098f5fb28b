// CheckResult, and the kit's synthetic artifacts: layers, datasets, models and metrics.
#include <cmath>

#include "pipeline/model_builder.hpp"
#include "pipeline/rng.hpp"
#include "pipeline/schema.hpp"
#include "pipeline/testing.hpp"

namespace pipeline::testing {

std::string CheckResult::text() const {
  std::string out;
  for (const auto& f : failures) out += "FAIL " + f + "\n";
  for (const auto& n : notes) out += "  " + n + "\n";
  return out;
}

void CheckResult::merge(const CheckResult& other, const std::string& prefix) {
  for (const auto& f : other.failures) failures.push_back(prefix + f);
  for (const auto& n : other.notes) notes.push_back(prefix + n);
}

std::unique_ptr<Layer> make_layer(const std::string& type, const Value& params, const Shape& sample,
                                  std::uint64_t seed) {
  const LayerInfo* info = find_layer_type(type);
  if (!info) throw Error(ErrorCode::unknown_plugin, "no layer type '" + type + "' is registered");
  ThrowingDiagnostics diag;
  const Params checked = check_params(info->params, params, "layer type " + type, {}, "/", diag);
  std::unique_ptr<Layer> layer = info->create(type, checked, sample);
  if (!layer) throw Error(ErrorCode::internal, "layer type " + type + ": create returned nothing");
  Rng rng(seed);
  layer->initialize(rng);
  return layer;
}

std::shared_ptr<Dataset> make_dataset(const Shape& sample, std::int64_t classes, std::int64_t per_class,
                                      std::uint64_t seed) {
  if (classes < 1 || per_class < 1) throw Error(ErrorCode::internal, "make_dataset needs at least one class and sample");
  Rng rng(seed);
  const std::int64_t n = classes * per_class, d = numel(sample);
  std::vector<float> means(static_cast<std::size_t>(classes * d));
  for (float& m : means) m = rng.uniform(-1.0f, 1.0f);
  Shape shape = sample;
  shape.insert(shape.begin(), n);
  Tensor features(shape);
  std::vector<std::int32_t> labels;
  std::vector<std::string> names;
  for (std::int64_t c = 0; c < classes; ++c) names.push_back("class" + std::to_string(c));
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t c = i / per_class;
    labels.push_back(static_cast<std::int32_t>(c));
    for (std::int64_t j = 0; j < d; ++j)
      features.values()[static_cast<std::size_t>(i * d + j)] =
          means[static_cast<std::size_t>(c * d + j)] + 0.3f * static_cast<float>(rng.normal());
  }
  return std::make_shared<Dataset>(std::move(features), std::move(labels), std::move(names));
}

std::shared_ptr<Model> make_model(const Shape& input, const Value& layers, std::uint64_t seed) {
  ThrowingDiagnostics diag;
  std::unique_ptr<Model> model = build_model(input, layers, diag);
  Rng rng(seed);
  for (std::size_t i = 0; i < model->size(); ++i) model->layer(i).initialize(rng);
  return std::shared_ptr<Model>(std::move(model));
}

std::shared_ptr<Metrics> make_metrics(const Value& values) { return std::make_shared<Metrics>(values); }

}  // namespace pipeline::testing
