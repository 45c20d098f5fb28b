// Minibatches drawn from a Dataset: gathers samples by index into one tensor.
#pragma once

#include <cstdint>
#include <vector>

#include "pipeline/dataset.hpp"

namespace pipeline::train {

// Copies samples order[begin, end) of `data` into x ([B, ...sample shape]) and their labels.
void gather_batch(const Dataset& data, const std::vector<std::int64_t>& order, std::int64_t begin,
                  std::int64_t end, Tensor& x, std::vector<std::int32_t>& labels);

}  // namespace pipeline::train
