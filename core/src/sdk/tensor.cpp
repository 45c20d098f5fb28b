#include "pipeline/tensor.hpp"

#include <algorithm>

#include "pipeline/error.hpp"

namespace pipeline {

std::int64_t numel(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string to_string(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Tensor::Tensor(Shape shape) : shape_(std::move(shape)), data_(static_cast<std::size_t>(pipeline::numel(shape_)), 0.0f) {}

Tensor::Tensor(Shape shape, std::vector<float> data) : shape_(std::move(shape)), data_(std::move(data)) {
  if (static_cast<std::int64_t>(data_.size()) != pipeline::numel(shape_))
    throw Error(ErrorCode::internal, "tensor of shape " + to_string(shape_) + " given " +
                                         std::to_string(data_.size()) + " values");
}

void Tensor::resize(Shape shape) {
  const auto n = static_cast<std::size_t>(pipeline::numel(shape));
  if (n != data_.size()) data_.assign(n, 0.0f);
  shape_ = std::move(shape);
}

void Tensor::fill(float value) { std::fill(data_.begin(), data_.end(), value); }

}  // namespace pipeline
