// Helpers for layer tests: the layer types of the layers plugin registered in-process, models
// built from YAML text, and float comparisons with PyTorch's tolerance.
#pragma once

#include <memory>
#include <string>

#include "pipeline/model.hpp"
#include "pipeline/tensor.hpp"

namespace test {

// Registers the layers plugin's layer types once for this process.
void register_layer_types();

// A model from a YAML list of layers, e.g. "[{linear: {out: 3}}, relu]".
std::unique_ptr<pipeline::Model> model_from_yaml(const pipeline::Shape& input, const std::string& layers_yaml);

// A layer of the given type from YAML parameters for inputs of one sample shape.
std::unique_ptr<pipeline::Layer> layer_from_yaml(const std::string& type, const std::string& params_yaml,
                                                 const pipeline::Shape& input);

// The largest violation of |a - b| <= atol + rtol * |b| (0 when all pass), with the worst index.
struct Mismatch {
  double excess = 0;
  std::size_t index = 0;
  float got = 0, want = 0;
};
Mismatch compare(const float* got, const float* want, std::size_t n, double rtol = 1e-4, double atol = 1e-5);

}  // namespace test
