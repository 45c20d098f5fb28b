// Dataset: labelled samples, as produced by the data loaders and consumed by training stages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/artifact.hpp"
#include "pipeline/tensor.hpp"

namespace pipeline {

class Dataset : public Artifact {
 public:
  // features: [N, ...sample shape], e.g. [N, 1, 28, 28] for images; labels: N values in
  // [0, num_classes); class_names[i] names class i (e.g. the original label before relabelling).
  Dataset(Tensor features, std::vector<std::int32_t> labels, std::vector<std::string> class_names);

  std::string type() const override { return "dataset"; }
  std::string summary() const override;

  std::int64_t size() const { return static_cast<std::int64_t>(labels_.size()); }
  Shape sample_shape() const;
  std::int64_t sample_numel() const;
  int num_classes() const { return static_cast<int>(class_names_.size()); }
  const Tensor& features() const { return features_; }
  const std::vector<std::int32_t>& labels() const { return labels_; }
  const std::vector<std::string>& class_names() const { return class_names_; }
  const float* sample(std::int64_t i) const { return features_.data() + i * sample_numel(); }

  // The samples at the given indices, in that order.
  Dataset subset(const std::vector<std::int64_t>& indices) const;
  // Number of samples per class.
  std::vector<std::int64_t> class_counts() const;

 private:
  Tensor features_;
  std::vector<std::int32_t> labels_;
  std::vector<std::string> class_names_;
};

}  // namespace pipeline
