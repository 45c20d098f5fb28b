// What a conv2d layer is: its checked parameters and input size, shared by the oneDNN layer and
// its plain reference.
#pragma once

#include "layer_types.hpp"
#include "pipeline/params.hpp"

namespace pipeline::layers {

struct ConvConfig {
  std::int64_t in = 0, out = 0, kernel = 0, stride = 1, padding = 0, dilation = 1, groups = 1;
  std::int64_t height = 0, width = 0;  // the input's spatial size
  bool bias = true;
};

// From checked parameters for inputs of one sample shape; throws Error(config_schema) when they
// do not fit (channels, groups, a kernel larger than the padded input).
ConvConfig conv_config(const std::string& name, const Params& p, const Shape& input);

inline Shape conv_output_of(const Shape& in, const ConvConfig& c) {
  return conv_output(in, c.out, c.kernel, c.stride, c.padding, c.dilation, "conv2d");
}

// The parameters both create: weight [out, in / groups, kernel, kernel], then bias [out].
std::vector<Parameter> conv_parameters(const ConvConfig& c);

}  // namespace pipeline::layers
