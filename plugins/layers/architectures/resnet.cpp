// torchvision's ResNet-18, -34 (BasicBlock) and -50 (Bottleneck, stride on the 3x3 conv as in
// torchvision's v1.5), with its module names: conv1, bn1, relu, maxpool, layer1..layer4 of blocks
// "0", "1", ... (conv1, bn1, conv2, bn2[, conv3, bn3], downsample.0/1), avgpool, fc.
#include "architectures.hpp"

namespace pipeline::layers {
namespace {

Value conv(const std::string& name, std::int64_t out, std::int64_t kernel, std::int64_t stride, std::int64_t padding) {
  Value p = Value::map();
  p.set("out", Value::integer(out));
  p.set("kernel", Value::integer(kernel));
  p.set("stride", Value::integer(stride));
  p.set("padding", Value::integer(padding));
  p.set("bias", Value::boolean(false));
  return item("conv2d", name, p);
}

Value bn(const std::string& name) { return item("batchnorm2d", name); }
Value relu(const std::string& name) { return item("relu", name); }

// One block: the body, a projection shortcut when the shape changes, and a relu after the sum.
Value block(std::int64_t index, std::int64_t in, std::int64_t planes, std::int64_t stride, bool bottleneck) {
  const std::int64_t out = bottleneck ? planes * 4 : planes;
  Value body = Value::list();
  if (bottleneck) {
    body.push_back(conv("conv1", planes, 1, 1, 0));
    body.push_back(bn("bn1"));
    body.push_back(relu("relu1"));
    body.push_back(conv("conv2", planes, 3, stride, 1));
    body.push_back(bn("bn2"));
    body.push_back(relu("relu2"));
    body.push_back(conv("conv3", out, 1, 1, 0));
    body.push_back(bn("bn3"));
  } else {
    body.push_back(conv("conv1", planes, 3, stride, 1));
    body.push_back(bn("bn1"));
    body.push_back(relu("relu1"));
    body.push_back(conv("conv2", planes, 3, 1, 1));
    body.push_back(bn("bn2"));
  }
  Value p = Value::map();
  p.set("layers", body);
  if (stride != 1 || in != out) p.set("shortcut", Value::list({conv("0", out, 1, stride, 0), bn("1")}));
  p.set("after", Value::list({relu("relu")}));
  return item("residual", std::to_string(index), p);
}

}  // namespace

Value resnet_layers(const std::string& name, const ArchitectureOptions& o) {
  const bool bottleneck = name == "resnet50";
  const std::vector<std::int64_t> blocks = name == "resnet18" ? std::vector<std::int64_t>{2, 2, 2, 2}
                                                              : std::vector<std::int64_t>{3, 4, 6, 3};
  Value layers = Value::list();
  layers.push_back(conv("conv1", 64, 7, 2, 3));
  layers.push_back(bn("bn1"));
  layers.push_back(relu("relu"));
  Value pool = Value::map();
  pool.set("kernel", Value::integer(3));
  pool.set("stride", Value::integer(2));
  pool.set("padding", Value::integer(1));
  layers.push_back(item("maxpool2d", "maxpool", pool));
  std::int64_t in = 64;
  for (std::size_t stage = 0; stage < 4; ++stage) {
    const std::int64_t planes = 64 << stage;
    Value stage_blocks = Value::list();
    for (std::int64_t b = 0; b < blocks[stage]; ++b) {
      const std::int64_t stride = b == 0 && stage > 0 ? 2 : 1;
      stage_blocks.push_back(block(b, in, planes, stride, bottleneck));
      in = bottleneck ? planes * 4 : planes;
    }
    Value p = Value::map();
    p.set("layers", stage_blocks);
    layers.push_back(item("sequential", "layer" + std::to_string(stage + 1), p));
  }
  layers.push_back(item("adaptive_avgpool2d", "avgpool"));
  layers.push_back(item("flatten", "flatten"));
  Value fc = Value::map();
  fc.set("out", Value::integer(o.classes));
  layers.push_back(item("linear", "fc", fc));
  return layers;
}

}  // namespace pipeline::layers
