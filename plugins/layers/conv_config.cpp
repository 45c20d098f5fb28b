#include "conv_config.hpp"

#include "pipeline/error.hpp"

namespace pipeline::layers {

ConvConfig conv_config(const std::string& name, const Params& p, const Shape& input) {
  ConvConfig c;
  c.out = p.get_int("out");
  c.kernel = p.get_int("kernel");
  c.stride = p.get_int("stride");
  c.padding = p.get_int("padding");
  c.dilation = p.get_int("dilation");
  c.groups = p.get_int("groups");
  c.bias = p.get_bool("bias");
  const std::string what = "conv2d " + name;
  if (input.size() != 3)
    throw Error(ErrorCode::config_schema, what + " expects [channels, height, width] inputs, gets " + to_string(input));
  c.in = input[0];
  if (p.get_int("in") && p.get_int("in") != c.in)
    throw Error(ErrorCode::config_schema, what + " expects " + std::to_string(p.get_int("in")) +
                                              " input channels, gets " + std::to_string(c.in));
  if (c.in % c.groups || c.out % c.groups)
    throw Error(ErrorCode::config_schema, what + ": groups " + std::to_string(c.groups) +
                                              " must divide input channels " + std::to_string(c.in) +
                                              " and output channels " + std::to_string(c.out));
  conv_output(input, c.out, c.kernel, c.stride, c.padding, c.dilation, what);
  c.height = input[1];
  c.width = input[2];
  return c;
}

std::vector<Parameter> conv_parameters(const ConvConfig& c) {
  std::vector<Parameter> params;
  params.push_back({"weight", Tensor({c.out, c.in / c.groups, c.kernel, c.kernel}), {}, true, false});
  if (c.bias) params.push_back({"bias", Tensor({c.out}), {}, true, false});
  return params;
}

}  // namespace pipeline::layers
