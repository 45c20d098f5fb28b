// The layer types of the layers plugin, each on oneDNN primitives.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pipeline/layer.hpp"

namespace pipeline::layers {

LayerInfo conv2d_layer();
// Plain twins (LayerInfo::reference), in reference/: simple loops over plain tensors.
std::unique_ptr<Layer> conv2d_reference(const std::string& name, const Params& p, const Shape& input);
std::unique_ptr<Layer> linear_reference(const std::string& name, const Params& p, const Shape& input);
LayerInfo maxpool2d_layer();
LayerInfo avgpool2d_layer();
LayerInfo linear_layer();
std::vector<LayerInfo> activation_layers();  // relu, leaky_relu, tanh, sigmoid, gelu, relu6
LayerInfo flatten_layer();
LayerInfo dropout_layer();
LayerInfo batchnorm2d_layer();
std::vector<LayerInfo> recurrent_layers();  // rnn, lstm, gru
LayerInfo adaptive_avgpool2d_layer();
LayerInfo sequential_layer();
LayerInfo residual_layer();

// Output [channels, height, width] of a sliding window over [channels, height, width]; throws a
// config_schema Error naming `what` when the window does not fit.
Shape conv_output(const Shape& in, std::int64_t out_channels, std::int64_t kernel, std::int64_t stride,
                  std::int64_t padding, std::int64_t dilation, const std::string& what);

}  // namespace pipeline::layers
