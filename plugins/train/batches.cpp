#include "batches.hpp"

#include <cstring>

namespace pipeline::train {

void gather_batch(const Dataset& data, const std::vector<std::int64_t>& order, std::int64_t begin,
                  std::int64_t end, Tensor& x, std::vector<std::int32_t>& labels) {
  Shape shape = data.sample_shape();
  shape.insert(shape.begin(), end - begin);
  x.resize(shape);
  labels.resize(static_cast<std::size_t>(end - begin));
  const std::int64_t per = data.sample_numel();
  for (std::int64_t k = begin; k < end; ++k) {
    const std::int64_t i = order[static_cast<std::size_t>(k)];
    std::memcpy(x.data() + (k - begin) * per, data.sample(i), sizeof(float) * static_cast<std::size_t>(per));
    labels[static_cast<std::size_t>(k - begin)] = data.labels()[static_cast<std::size_t>(i)];
  }
}

}  // namespace pipeline::train
