// What the plain twins share: a tensor's values as an optimised layer's primitive reads them at a
// precision (rounded to bf16 at bf16, unchanged at f32).
#pragma once

#include <vector>

#include "pipeline/precision.hpp"
#include "pipeline/tensor.hpp"

namespace pipeline::layers {

inline std::vector<float> as_computed(const Tensor& t, Precision precision) {
  std::vector<float> v = t.values();
  if (precision == Precision::bf16)
    for (float& x : v) x = round_to_bf16(x);
  return v;
}

}  // namespace pipeline::layers
