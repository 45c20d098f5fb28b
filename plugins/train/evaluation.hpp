// Runs a model over a dataset in evaluation mode and scores it: loss, accuracy, per-class
// precision/recall/F1, macro-F1, balanced accuracy, confusion matrix.
#pragma once

#include <cstdint>
#include <vector>

#include "loss.hpp"
#include "pipeline/dataset.hpp"
#include "pipeline/model.hpp"
#include "pipeline/stage.hpp"
#include "pipeline/value.hpp"

namespace pipeline::train {

struct Evaluation {
  double loss = 0;
  double accuracy = 0;
  std::vector<std::int32_t> predicted;   // per sample
  std::vector<float> probabilities;      // per sample, per class ([N, C] row-major)
  std::vector<std::vector<std::int64_t>> confusion;  // [true][predicted]
  std::vector<double> precision, recall, f1;
  double macro_f1 = 0, balanced_accuracy = 0;

  Value to_value(const std::vector<std::string>& class_names) const;
  std::string table(const std::vector<std::string>& class_names) const;
};

// `stop` is checked between batches (null: never stops). keep_probabilities fills probabilities.
Evaluation evaluate(Model& model, const Dataset& data, std::int64_t batch_size, const LossOptions& loss,
                    const StageContext* context, bool keep_probabilities = false);

}  // namespace pipeline::train
