// Softmax cross-entropy on a batch of logits, with optional class weights and label smoothing, as
// PyTorch's CrossEntropyLoss (mean reduction: divided by the summed weight of the targets).
#pragma once

#include <cstdint>
#include <vector>

#include "pipeline/tensor.hpp"

namespace pipeline::train {

struct LossOptions {
  std::vector<float> class_weights;  // empty: all 1
  float label_smoothing = 0.0f;
};

class CrossEntropy {
 public:
  explicit CrossEntropy(LossOptions options = {}) : options_(std::move(options)) {}
  // logits [N, C]; returns the mean loss. With grad, writes d loss / d logits into it.
  double operator()(const Tensor& logits, const std::int32_t* labels, Tensor* grad);
  // log-probabilities of the last call, [N, C]
  const Tensor& log_probabilities() const { return log_probs_; }

 private:
  LossOptions options_;
  Tensor log_probs_;
};

}  // namespace pipeline::train
