#include "evaluation.hpp"

#include <cmath>
#include <cstdio>
#include <numeric>

#include "batches.hpp"
#include "pipeline/error.hpp"

namespace pipeline::train {

Evaluation evaluate(Model& model, const Dataset& data, std::int64_t batch_size, const LossOptions& loss_options,
                    const StageContext* context, bool keep_probabilities) {
  if (data.size() == 0) throw Error(ErrorCode::data_format, "cannot evaluate on an empty dataset");
  if (data.sample_shape() != model.input_shape())
    throw Error(ErrorCode::data_format, "the model takes samples of shape " + to_string(model.input_shape()) +
                                            ", the dataset has " + to_string(data.sample_shape()));
  const std::int64_t classes = model.output_shape().at(0);
  if (data.num_classes() > classes)
    throw Error(ErrorCode::data_format, "the dataset has " + std::to_string(data.num_classes()) +
                                            " classes, the model only " + std::to_string(classes) + " outputs");
  Evaluation e;
  e.confusion.assign(static_cast<std::size_t>(classes), std::vector<std::int64_t>(static_cast<std::size_t>(classes), 0));
  CrossEntropy ce(loss_options);
  std::vector<std::int64_t> order(static_cast<std::size_t>(data.size()));
  std::iota(order.begin(), order.end(), 0);
  Tensor x, logits;
  std::vector<std::int32_t> labels;
  double loss_sum = 0;
  std::int64_t correct = 0;
  for (std::int64_t begin = 0; begin < data.size(); begin += batch_size) {
    if (context) context->throw_if_stopped();
    const std::int64_t end = std::min(data.size(), begin + batch_size);
    gather_batch(data, order, begin, end, x, labels);
    model.forward(x, logits, Mode::eval);
    // Batch losses weighted by batch size give the mean over the dataset (with class weights the
    // mean is per batch, as PyTorch's per-batch loss averaged over an epoch would be).
    loss_sum += ce(logits, labels.data(), nullptr) * static_cast<double>(end - begin);
    const Tensor& lp = ce.log_probabilities();
    for (std::int64_t i = 0; i < end - begin; ++i) {
      const float* row = lp.data() + i * classes;
      const std::int32_t best = static_cast<std::int32_t>(std::max_element(row, row + classes) - row);
      e.predicted.push_back(best);
      ++e.confusion[static_cast<std::size_t>(labels[static_cast<std::size_t>(i)])][static_cast<std::size_t>(best)];
      correct += best == labels[static_cast<std::size_t>(i)];
      if (keep_probabilities)
        for (std::int64_t k = 0; k < classes; ++k) e.probabilities.push_back(std::exp(row[k]));
    }
  }
  e.loss = loss_sum / static_cast<double>(data.size());
  e.accuracy = static_cast<double>(correct) / static_cast<double>(data.size());
  double f1_sum = 0, recall_sum = 0;
  int present = 0;
  for (std::int64_t c = 0; c < classes; ++c) {
    std::int64_t tp = e.confusion[c][c], actual = 0, predicted = 0;
    for (std::int64_t k = 0; k < classes; ++k) {
      actual += e.confusion[c][k];
      predicted += e.confusion[k][c];
    }
    const double p = predicted ? static_cast<double>(tp) / predicted : 0.0;
    const double r = actual ? static_cast<double>(tp) / actual : 0.0;
    e.precision.push_back(p);
    e.recall.push_back(r);
    e.f1.push_back(p + r > 0 ? 2 * p * r / (p + r) : 0.0);
    // Macro averages over the classes present in the data, as scikit-learn's balanced accuracy.
    if (actual) {
      ++present;
      f1_sum += e.f1.back();
      recall_sum += r;
    }
  }
  e.macro_f1 = present ? f1_sum / present : 0;
  e.balanced_accuracy = present ? recall_sum / present : 0;
  return e;
}

Value Evaluation::to_value(const std::vector<std::string>& class_names) const {
  Value v = Value::map();
  v.set("loss", Value::real(loss));
  v.set("accuracy", Value::real(accuracy));
  v.set("macro_f1", Value::real(macro_f1));
  v.set("balanced_accuracy", Value::real(balanced_accuracy));
  Value per_class = Value::map();
  for (std::size_t c = 0; c < precision.size(); ++c) {
    Value row = Value::map();
    row.set("precision", Value::real(precision[c]));
    row.set("recall", Value::real(recall[c]));
    row.set("f1", Value::real(f1[c]));
    per_class.set(c < class_names.size() ? class_names[c] : std::to_string(c), row);
  }
  v.set("per_class", per_class);
  Value matrix = Value::list();
  for (const auto& row : confusion) {
    Value r = Value::list();
    for (auto n : row) r.push_back(Value::integer(n));
    matrix.push_back(r);
  }
  v.set("confusion", matrix);
  return v;
}

std::string Evaluation::table(const std::vector<std::string>& class_names) const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-10s %9s %9s %9s %8s", "class", "precision", "recall", "f1", "support");
  out += line;
  for (std::size_t c = 0; c < precision.size(); ++c) {
    std::int64_t support = 0;
    for (auto n : confusion[c]) support += n;
    std::snprintf(line, sizeof line, "\n%-10s %9.4f %9.4f %9.4f %8lld",
                  (c < class_names.size() ? class_names[c] : std::to_string(c)).c_str(), precision[c], recall[c],
                  f1[c], static_cast<long long>(support));
    out += line;
  }
  std::snprintf(line, sizeof line, "\naccuracy %.4f  macro-F1 %.4f  balanced accuracy %.4f  loss %.4f", accuracy,
                macro_f1, balanced_accuracy, loss);
  out += line;
  out += "\nconfusion (rows: true, columns: predicted)";
  for (const auto& row : confusion) {
    out += "\n";
    for (auto n : row) {
      std::snprintf(line, sizeof line, "%6lld", static_cast<long long>(n));
      out += line;
    }
  }
  return out;
}

}  // namespace pipeline::train
