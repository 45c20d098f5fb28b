// Tensor: a dense float32 array in row-major (C) order with a shape.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pipeline {

using Shape = std::vector<std::int64_t>;

std::int64_t numel(const Shape& shape);
std::string to_string(const Shape& shape);  // "[8, 1, 28, 28]"

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape);  // zero-filled
  Tensor(Shape shape, std::vector<float> data);  // data.size() must equal numel(shape)

  // Changes the shape; the storage is reallocated only when the element count changes, so a
  // tensor reused across steps of the same size never allocates.
  void resize(Shape shape);
  void fill(float value);

  const Shape& shape() const { return shape_; }
  std::int64_t dim(std::size_t i) const { return shape_.at(i); }
  std::size_t rank() const { return shape_.size(); }
  std::int64_t numel() const { return static_cast<std::int64_t>(data_.size()); }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  std::vector<float>& values() { return data_; }
  const std::vector<float>& values() const { return data_; }

 private:
  Shape shape_;
  std::vector<float> data_;
};

}  // namespace pipeline
