// evaluate: scores a model on a dataset; metrics, a table, and optionally per-sample predictions.
#include <cstdio>
#include <fstream>

#include "evaluation.hpp"
#include "pipeline/sdk.hpp"
#include "stages.hpp"

namespace pipeline::train {
namespace {

class EvaluateStage : public Stage {
 public:
  explicit EvaluateStage(const Params& p)
      : batch_size_(p.get_int("batch_size")),
        predictions_(p.has("predictions") ? p.get_path("predictions") : std::filesystem::path()) {}

  void run(StageContext& ctx) override {
    auto input = ctx.input_as<Model>("model");
    auto data = ctx.input_as<Dataset>("data");
    std::shared_ptr<Model> model = input->clone();  // layers keep per-run state; the input stays shared
    const Evaluation e = evaluate(*model, *data, batch_size_, {}, &ctx, !predictions_.empty());
    ctx.log(e.table(data->class_names()));
    Value v = e.to_value(data->class_names());
    for (const auto& [key, value] : v.entries()) ctx.metric(key, value);
    if (!predictions_.empty()) write_predictions(*data, e);
    // The model's notes (e.g. its training time) go on with the scores, to comparisons; they are
    // not metrics of this run (times vary), so they stay out of metrics.json.
    v.set("model", input->notes());
    ctx.set_output("metrics", std::make_shared<Metrics>(v));
  }

 private:
  void write_predictions(const Dataset& data, const Evaluation& e) const {
    const std::size_t classes = e.probabilities.size() / e.predicted.size();
    if (!predictions_.parent_path().empty()) std::filesystem::create_directories(predictions_.parent_path());
    write_file_atomic(predictions_, [&](std::ostream& out) {
      out << "index,label,predicted";
      for (std::size_t c = 0; c < classes; ++c) out << ",p" << c;
      out << "\n";
      char buf[32];
      for (std::size_t i = 0; i < e.predicted.size(); ++i) {
        out << i << "," << data.labels()[i] << "," << e.predicted[i];
        for (std::size_t c = 0; c < classes; ++c) {
          std::snprintf(buf, sizeof buf, ",%.6g", e.probabilities[i * classes + c]);
          out << buf;
        }
        out << "\n";
      }
    });
  }

  std::int64_t batch_size_;
  std::filesystem::path predictions_;
};

}  // namespace

StageInfo evaluate_stage() {
  StageInfo info;
  info.name = "evaluate";
  info.doc = "score a model: loss, accuracy, per-class precision/recall/F1, macro-F1, confusion matrix";
  info.compute = true;
  info.inputs = {{"model", "model", "the model to score"}, {"data", "dataset", "labelled samples"}};
  info.outputs = {{"metrics", "metrics", "the scores"}};
  info.params = {
      param_int("batch_size", "samples per forward pass", 256).range(1, 1 << 20),
      param_path("predictions", "write per-sample predictions (index, label, predicted, probabilities) as CSV here")
          .optional_value(),
  };
  info.create = [](const Params& p) { return std::make_unique<EvaluateStage>(p); };
  info.uses_seed = [](const Params&) { return false; };  // nothing random: shared across seeds
  return info;
}

}  // namespace pipeline::train
