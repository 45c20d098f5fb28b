// torchvision's MobileNetV2 (width 1.0) with its module names: features.0 (conv, bn, relu6),
// features.1..17 inverted residual blocks (features.N.conv.*: expansion 1x1, depthwise 3x3, linear
// 1x1 projection and bn; a residual sum when stride 1 keeps the width), features.18 (1x1 to 1280),
// then avgpool, flatten and classifier (0: dropout 0.2, 1: linear).
#include "architectures.hpp"

namespace pipeline::layers {
namespace {

// torchvision's Conv2dNormActivation: children 0 (conv, no bias), 1 (bn), 2 (relu6).
Value conv_bn_relu6(const std::string& name, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                    std::int64_t groups) {
  Value c = Value::map();
  c.set("out", Value::integer(out));
  c.set("kernel", Value::integer(kernel));
  c.set("stride", Value::integer(stride));
  c.set("padding", Value::integer((kernel - 1) / 2));
  c.set("groups", Value::integer(groups));
  c.set("bias", Value::boolean(false));
  Value p = Value::map();
  p.set("layers", Value::list({item("conv2d", "0", c), item("batchnorm2d", "1"), item("relu6", "2")}));
  return item("sequential", name, p);
}

Value inverted_residual(std::int64_t index, std::int64_t in, std::int64_t out, std::int64_t stride, std::int64_t expand) {
  const std::int64_t hidden = in * expand;
  Value conv = Value::list();
  if (expand != 1) conv.push_back(conv_bn_relu6(std::to_string(conv.size()), hidden, 1, 1, 1));
  conv.push_back(conv_bn_relu6(std::to_string(conv.size()), hidden, 3, stride, hidden));
  Value project = Value::map();
  project.set("out", Value::integer(out));
  project.set("kernel", Value::integer(1));
  project.set("bias", Value::boolean(false));
  conv.push_back(item("conv2d", std::to_string(conv.size()), project));
  conv.push_back(item("batchnorm2d", std::to_string(conv.size())));
  Value seq = Value::map();
  seq.set("layers", conv);
  Value p = Value::map();
  p.set("layers", Value::list({item("sequential", "conv", seq)}));
  // The sum with the input only when the shape is kept, as torchvision's use_res_connect.
  return item(stride == 1 && in == out ? "residual" : "sequential", std::to_string(index), p);
}

}  // namespace

Value mobilenet_v2_layers(const ArchitectureOptions& o) {
  struct Setting {
    std::int64_t expand, channels, repeats, stride;
  };
  const Setting settings[] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                              {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  Value features = Value::list();
  features.push_back(conv_bn_relu6("0", 32, 3, 2, 1));
  std::int64_t in = 32;
  for (const auto& s : settings)
    for (std::int64_t r = 0; r < s.repeats; ++r) {
      features.push_back(inverted_residual(static_cast<std::int64_t>(features.size()), in, s.channels, r == 0 ? s.stride : 1, s.expand));
      in = s.channels;
    }
  features.push_back(conv_bn_relu6(std::to_string(features.size()), 1280, 1, 1, 1));
  Value fp = Value::map();
  fp.set("layers", features);
  Value layers = Value::list();
  layers.push_back(item("sequential", "features", fp));
  layers.push_back(item("adaptive_avgpool2d", "avgpool"));
  layers.push_back(item("flatten", "flatten"));
  Value dropout = Value::map();
  dropout.set("p", Value::real(0.2));
  Value fc = Value::map();
  fc.set("out", Value::integer(o.classes));
  Value cp = Value::map();
  cp.set("layers", Value::list({item("dropout", "0", dropout), item("linear", "1", fc)}));
  layers.push_back(item("sequential", "classifier", cp));
  return layers;
}

}  // namespace pipeline::layers
