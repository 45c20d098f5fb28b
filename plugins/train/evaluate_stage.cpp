// evaluate: scores a model on a dataset; metrics, a table, and optionally per-sample predictions.
#include <algorithm>
#include <cmath>
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
        precision_(parse_precision(p.get_string("precision"))),
        predictions_(p.has("predictions") ? p.get_path("predictions") : std::filesystem::path()),
        many_shot_(p.get_int("many_shot")),
        few_shot_(p.get_int("few_shot")),
        logit_adjustment_(p.get_float("logit_adjustment")) {}

  void run(StageContext& ctx) override {
    auto input = ctx.input_as<Model>("model");
    auto data = ctx.input_as<Dataset>("data");
    std::shared_ptr<Model> model = input->clone();  // layers keep per-run state; the input stays shared
    const std::int64_t classes = model->output_shape().at(0);
    std::vector<std::int64_t> train_counts;
    if (ctx.has_input("train")) {
      train_counts.assign(static_cast<std::size_t>(classes), 0);
      for (std::int32_t y : ctx.input_as<Dataset>("train")->labels())
        if (y >= 0 && y < classes) ++train_counts[static_cast<std::size_t>(y)];
    } else if (logit_adjustment_ > 0) {
      throw Error(ErrorCode::missing_input, "logit_adjustment needs the 'train' input: the class prior comes from its counts");
    }
    LossOptions loss;
    if (logit_adjustment_ > 0) {
      // Post-hoc logit adjustment (Menon et al. 2021): predict argmax z - tau log(prior).
      for (double log_prior : log_class_prior(train_counts)) loss.logit_offsets.push_back(static_cast<float>(-logit_adjustment_ * log_prior));
    }
    const PrecisionScope precision(precision_);
    const Evaluation e = evaluate(*model, *data, batch_size_, loss, &ctx, !predictions_.empty());
    ctx.log(e.table(data->class_names()));
    Value v = e.to_value(data->class_names());
    if (!train_counts.empty()) add_shot_groups(v, e, train_counts, data->class_names());
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

  // Accuracy over the classes of each group by training count (the mean recall of the group's
  // classes present in the data): many-shot (more than many_shot training samples), medium, and
  // few-shot (fewer than few_shot), as Liu et al. 2019 and Kang et al. 2020 report.
  void add_shot_groups(Value& v, const Evaluation& e, const std::vector<std::int64_t>& counts,
                       const std::vector<std::string>& names) const {
    Value groups = Value::map();
    for (const char* group : {"many", "medium", "few"}) {
      Value members = Value::list();
      double recall_sum = 0;
      int present = 0;
      for (std::size_t c = 0; c < counts.size() && c < e.recall.size(); ++c) {
        const std::int64_t n = counts[c];
        const std::string g = n > many_shot_ ? "many" : n < few_shot_ ? "few" : "medium";
        if (g != group) continue;
        members.push_back(Value::string(c < names.size() ? names[c] : std::to_string(c)));
        std::int64_t actual = 0;
        for (auto k : e.confusion[c]) actual += k;
        if (actual) {
          recall_sum += e.recall[c];
          ++present;
        }
      }
      Value entry = Value::map();
      entry.set("classes", members);
      if (present) {
        entry.set("accuracy", Value::real(recall_sum / present));
        v.set(std::string(group) + "_shot_accuracy", Value::real(recall_sum / present));
      }
      groups.set(group, entry);
    }
    v.set("shot_groups", groups);
  }

  std::int64_t batch_size_;
  Precision precision_;
  std::filesystem::path predictions_;
  std::int64_t many_shot_, few_shot_;
  double logit_adjustment_;
};

}  // namespace

StageInfo evaluate_stage() {
  StageInfo info;
  info.name = "evaluate";
  info.doc = "score a model: loss, accuracy, per-class precision/recall/F1, macro-F1, confusion matrix";
  info.compute = true;
  info.inputs = {{"model", "model", "the model to score"},
                 {"data", "dataset", "labelled samples"},
                 {"train", "dataset",
                  "the training set: its class counts group the classes into many-, medium- and few-shot, "
                  "and give the prior of logit_adjustment",
                  true}};
  info.outputs = {{"metrics", "metrics", "the scores"}};
  info.params = {
      param_int("batch_size", "samples per forward pass", 256).range(1, 1 << 20),
      precision_param(),
      param_path("predictions", "write per-sample predictions (index, label, predicted, probabilities) as CSV here")
          .optional_value(),
      param_int("many_shot", "with a train input: classes with more training samples than this are many-shot", 100).range(0, 1e12),
      param_int("few_shot", "with a train input: classes with fewer training samples than this are few-shot", 20).range(0, 1e12),
      param_float("logit_adjustment",
                  "post-hoc logit adjustment (Menon et al. 2021): predict argmax z - tau log(prior), the prior from the train "
                  "input's class counts; 0: off",
                  0.0)
          .range(0, 100),
  };
  info.check = [](const Params& p, Diagnostics& diag) {
    if (p.get_int("few_shot") > p.get_int("many_shot") + 1)
      diag.error(p.get("few_shot").location(), "few_shot (" + std::to_string(p.get_int("few_shot")) + ") must not exceed many_shot + 1 (" +
                                                   std::to_string(p.get_int("many_shot") + 1) + "): the groups would overlap");
  };
  info.create = [](const Params& p) { return std::make_unique<EvaluateStage>(p); };
  info.uses_seed = [](const Params&) { return false; };  // nothing random: shared across seeds
  return info;
}

}  // namespace pipeline::train
