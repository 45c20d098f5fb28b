#include "pipeline/dataset.hpp"

#include <algorithm>
#include <cstring>

#include "pipeline/error.hpp"

namespace pipeline {

Dataset::Dataset(Tensor features, std::vector<std::int32_t> labels,
                 std::vector<std::string> class_names)
    : features_(std::move(features)), labels_(std::move(labels)), class_names_(std::move(class_names)) {
  if (features_.rank() < 1 || features_.dim(0) != size())
    throw Error(ErrorCode::internal, "dataset features " + to_string(features_.shape()) +
                                         " do not match " + std::to_string(size()) + " labels");
  for (auto label : labels_)
    if (label < 0 || label >= num_classes())
      throw Error(ErrorCode::internal, "dataset label " + std::to_string(label) + " outside [0, " +
                                           std::to_string(num_classes()) + ")");
}

Shape Dataset::sample_shape() const {
  return Shape(features_.shape().begin() + 1, features_.shape().end());
}

std::int64_t Dataset::sample_numel() const { return numel(sample_shape()); }

std::string Dataset::summary() const {
  return "dataset of " + std::to_string(size()) + " x " + to_string(sample_shape()) + ", " +
         std::to_string(num_classes()) + " classes";
}

Dataset Dataset::subset(const std::vector<std::int64_t>& indices) const {
  const std::int64_t n = sample_numel();
  Shape shape = features_.shape();
  shape[0] = static_cast<std::int64_t>(indices.size());
  std::vector<float> data(static_cast<std::size_t>(numel(shape)));
  std::vector<std::int32_t> labels;
  labels.reserve(indices.size());
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const std::int64_t i = indices[k];
    if (i < 0 || i >= size()) throw Error(ErrorCode::internal, "dataset index out of range");
    std::memcpy(data.data() + k * n, sample(i), sizeof(float) * n);
    labels.push_back(labels_[i]);
  }
  return Dataset(Tensor(std::move(shape), std::move(data)), std::move(labels), class_names_);
}

std::vector<std::int64_t> Dataset::class_counts() const {
  std::vector<std::int64_t> counts(num_classes(), 0);
  for (auto label : labels_) ++counts[label];
  return counts;
}

}  // namespace pipeline
