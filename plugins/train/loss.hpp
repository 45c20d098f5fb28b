// Softmax cross-entropy on a batch of logits, with optional class weights and label smoothing, as
// PyTorch's CrossEntropyLoss (mean reduction: divided by the summed weight of the targets); or the
// focal loss (Lin et al. 2017) -w_y (1 - p_y)^gamma log p_y on the softmax, with the same
// weighting; either on logits shifted by fixed offsets first (logit adjustment, Menon et al.
// 2021: tau log prior per class, so the model learns balanced scores).
#pragma once

#include <cstdint>
#include <vector>

#include "pipeline/tensor.hpp"

namespace pipeline::train {

struct LossOptions {
  std::vector<float> class_weights;  // empty: all 1
  float label_smoothing = 0.0f;      // cross-entropy only
  float focal_gamma = 0.0f;          // > 0: the focal loss (0 is plain cross-entropy)
  std::vector<float> logit_offsets;  // added to the logits inside the loss; empty: none
};

// log(n_c / N) per class of the training counts, the prior of logit adjustment; a class with no
// samples counts as one (log 0 would be -inf).
std::vector<double> log_class_prior(const std::vector<std::int64_t>& counts);

class CrossEntropy {
 public:
  explicit CrossEntropy(LossOptions options = {}) : options_(std::move(options)) {}
  // logits [N, C]; returns the mean loss. With grad, writes d loss / d logits into it.
  double operator()(const Tensor& logits, const std::int32_t* labels, Tensor* grad);
  // log-probabilities of the last call, [N, C]
  const Tensor& log_probabilities() const { return log_probs_; }

 private:
  double focal(std::int64_t n, std::int64_t c, const std::int32_t* labels, Tensor* grad);
  LossOptions options_;
  Tensor log_probs_;
  Tensor adjusted_;  // logits + offsets
};

}  // namespace pipeline::train
