// csv_dataset: reads a numeric CSV file (one sample per row, an integer label column), reshapes
// the features to a sample shape, keeps and relabels classes, samples K per class and splits off
// a seeded, stratified test set, as idx_dataset does for IDX files.
#include <limits>
#include <map>
#include <memory>

#include "csv_reader.hpp"
#include "pipeline/sdk.hpp"
#include "sampling.hpp"
#include "stages.hpp"

namespace pipeline::data {
namespace {

class CsvDataset : public Stage {
 public:
  explicit CsvDataset(const Params& p) : params_(p) {}

  void run(StageContext& ctx) override {
    const auto path = params_.get_path("path");
    CsvOptions options;
    options.label_column = params_.get_string("label_column");
    options.header = params_.get_bool("header");
    options.features = params_.get_string_list("features");
    options.scale = params_.get_float("scale");
    CsvTable table = read_csv(path, options);
    ctx.throw_if_stopped();

    const auto n_features = static_cast<std::int64_t>(table.feature_names.size());
    Shape sample_shape;
    try {
      sample_shape = csv_sample_shape(params_.get_int_list("shape"), n_features, path.string());
    } catch (Error& e) {
      // The file is fine on its own; point at the parameter that does not fit it.
      e.set_location(params_.location("shape"));
      throw;
    }

    const std::string source = path.string();
    Selection train, test;
    select_and_split(table.labels, params_, ctx.seed(), source, train, test);

    auto make = [&](const Selection& s) {
      const auto n = static_cast<std::int64_t>(s.indices.size());
      std::vector<float> values(static_cast<std::size_t>(n * n_features));
      for (std::int64_t k = 0; k < n; ++k)
        std::copy_n(table.features.begin() + s.indices[k] * n_features, n_features,
                    values.begin() + k * n_features);
      Shape shape = sample_shape;
      shape.insert(shape.begin(), n);
      return std::make_shared<Dataset>(Tensor(std::move(shape), std::move(values)), s.labels, s.class_names);
    };
    auto train_set = make(train);
    auto test_set = make(test);
    ctx.log("read " + std::to_string(table.rows()) + " rows of " + std::to_string(n_features) + " features from " +
            path.filename().string() + "; train " + std::to_string(train_set->size()) + ", test " +
            std::to_string(test_set->size()) + ", " + std::to_string(train_set->num_classes()) + " classes");
    ctx.metric("source_samples", Value::integer(table.rows()));
    ctx.metric("train_samples", Value::integer(train_set->size()));
    ctx.metric("test_samples", Value::integer(test_set->size()));
    ctx.set_output("train", train_set);
    ctx.set_output("test", test_set);
  }

 private:
  Params params_;
};

// Beyond the schema: classes and features each without repeats, the label not among the
// features, and, when the features are listed, a shape that holds exactly that many values.
void check_csv_params(const Params& params, Diagnostics& diagnostics) {
  check_unique_classes(params, diagnostics);
  const auto& features = params.get("features").items();
  const std::string& label = params.get_string("label_column");
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < features.size(); ++i) {
    const std::string& name = features[i].as_string();
    if (name == label)
      diagnostics.error(features[i].location(), "parameter 'features' lists the label column '" + label + "'");
    if (auto [it, inserted] = seen.emplace(name, i); !inserted)
      diagnostics.error(features[i].location(), "parameter 'features' lists column '" + name + "' twice (items " +
                                                    std::to_string(it->second + 1) + " and " +
                                                    std::to_string(i + 1) + ")");
  }
  const auto& shape = params.get("shape");
  if (features.empty() || shape.items().empty()) return;
  std::int64_t product = 1;
  for (const auto& d : shape.items()) {
    const std::int64_t v = d.as_int();
    if (v < 1) return;  // already reported by the range check
    if (product > std::numeric_limits<std::int64_t>::max() / v) {
      product = -1;
      break;
    }
    product *= v;
  }
  if (product != static_cast<std::int64_t>(features.size()))
    diagnostics.error(shape.location(), "parameter 'shape' " + shape.str() + " does not hold the " +
                                            std::to_string(features.size()) + " listed features");
}

}  // namespace

StageInfo csv_dataset_stage() {
  StageInfo info;
  info.name = "csv_dataset";
  info.doc = "read a numeric CSV file, one sample per row with an integer label column, reshaped to a sample shape";
  info.outputs = {
      {"train", "dataset", "the samples not held out for testing"},
      {"test", "dataset", "the held-out samples (test_fraction of each class)"},
  };
  info.params = {
      param_path("path", "CSV file: numeric columns, one sample per row, optionally a header line").existing(),
      param_string("label_column", "the column of non-negative integer labels: its header name, or 0, 1, ... without a header",
                   std::string("label")),
      param_bool("header", "the first line names the columns; without one they are named by position 0, 1, ...", true),
      param_list("features", "the feature columns, in this order; empty uses every column but the label",
                 ParamType::string, Value::list()),
      param_list("shape", "sample shape the features fill in row-major order, e.g. [1, 28, 28]; empty: [features]",
                 ParamType::integer, Value::list())
          .range(1, std::nullopt),
      param_float("scale", "multiply every feature by this, e.g. 0.00392156862745098 (1/255) for byte pixels", 1.0),
  };
  for (auto& spec : sampling_params(kMaxCsvLabel)) info.params.push_back(spec);
  info.create = [](const Params& p) { return std::make_unique<CsvDataset>(p); };
  info.uses_seed = [](const Params& p) { return p.get_int("per_class") > 0 || p.get_float("test_fraction") > 0; };
  info.check = check_csv_params;
  return info;
}

}  // namespace pipeline::data
