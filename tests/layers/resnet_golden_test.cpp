// torchvision's ResNet-18 (../shared/golden/resnet18.safetensors, torchvision 0.14) against
// `architecture: resnet18`: its state_dict loads by name, and eval logits, training-mode logits and
// loss, the listed gradients (and the input's), and BatchNorm's running statistics after one
// training forward all match within rtol 1e-4 + atol 1e-5. The largest differences are printed.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "architectures/architectures.hpp"
#include "layer_support.hpp"
#include "loss.hpp"
#include "pipeline/model_builder.hpp"
#include "pipeline/safetensors.hpp"
#include "pipeline/schema.hpp"
#include "pipeline/testing.hpp"

using namespace pipeline;

namespace {

const std::filesystem::path golden_file =
    std::filesystem::path(PIPELINE_SOURCE_DIR) / ".." / "shared" / "golden" / "resnet18.safetensors";

// Checks and reports the largest absolute and relative differences.
void check_close(const std::string& what, const float* got, const SafetensorsEntry* want) {
  INFO(what);
  REQUIRE(want);
  const auto m = test::compare(got, want->f32.data(), want->f32.size());
  double abs = 0, rel = 0;
  for (std::size_t i = 0; i < want->f32.size(); ++i) {
    const double d = std::fabs(double(got[i]) - want->f32[i]);
    abs = std::max(abs, d);
    rel = std::max(rel, d / std::max(1e-6, std::fabs(double(want->f32[i]))));
  }
  std::printf("resnet18 golden: %-36s max abs diff %.3g, max rel diff %.3g (%zu values)\n", what.c_str(), abs, rel,
              want->f32.size());
  INFO("worst at " << m.index << ": got " << m.got << ", want " << m.want);
  CHECK(m.excess <= 0);
}

std::unique_ptr<Model> resnet18_from_golden(const SafetensorsFile& golden) {
  test::register_layer_types();
  layers::ArchitectureOptions options;
  options.classes = 10;
  ThrowingDiagnostics diag;
  auto model = build_model({3, 64, 64}, layers::architecture_layers("resnet18", options), diag);
  REQUIRE(model);
  std::size_t loaded = 0;
  for (auto& np : model->named_parameters()) {
    const SafetensorsEntry* t = golden.find(np.name);
    INFO("parameter " << np.name);
    REQUIRE(t);
    REQUIRE(t->shape == np.param->value.shape());
    if (np.param->integer) {
      REQUIRE(t->dtype == "I64");
      np.param->value.values().assign(t->i64.begin(), t->i64.end());
    } else {
      np.param->value.values() = t->f32;
    }
    ++loaded;
  }
  // Every state_dict entry of the file is a parameter or buffer of the model (strict, both ways).
  std::size_t state = 0;
  for (const auto& t : golden.tensors)
    if (t.name != "input" && t.name != "labels" && t.name.rfind("expected.", 0) != 0) ++state;
  CHECK(state == loaded);
  return model;
}

}  // namespace

TEST_CASE("ResNet-18 matches torchvision: eval, training forward, loss, gradients, running statistics", "[golden][resnet]") {
  if (!std::filesystem::exists(golden_file)) {
    WARN("no golden file " << golden_file.string() << ": skipped");
    return;
  }
  const SafetensorsFile golden = read_safetensors(golden_file);
  const SafetensorsEntry* input = golden.find("input");
  const SafetensorsEntry* labels64 = golden.find("labels");
  REQUIRE(input);
  REQUIRE(labels64);
  Tensor x(input->shape, input->f32);
  std::vector<std::int32_t> labels(labels64->i64.begin(), labels64->i64.end());

  auto model = resnet18_from_golden(golden);
  CHECK(model->parameter_count() == 11181642);
  Tensor logits;
  model->forward(x, logits, Mode::eval);
  check_close("eval logits", logits.data(), golden.find("expected.eval.logits"));

  // One training-mode forward (batch statistics) and backward of the mean cross-entropy.
  Tensor train_logits, grad;
  model->forward(x, train_logits, Mode::train);
  check_close("train logits", train_logits.data(), golden.find("expected.train.logits"));
  train::CrossEntropy ce;
  const double loss = ce(train_logits, labels.data(), &grad);
  const float loss_f = static_cast<float>(loss);
  check_close("train loss", &loss_f, golden.find("expected.train.loss"));
  model->backward(grad, /*need_input_grad=*/true);
  check_close("grad input", model->input_grad().data(), golden.find("expected.grad.input"));
  int gradients = 0;
  for (auto& np : model->named_parameters()) {
    const SafetensorsEntry* want = golden.find("expected.grad." + np.name);
    if (!want) continue;
    check_close("grad " + np.name, np.param->grad.data(), want);
    ++gradients;
  }
  CHECK(gradients == 10);
  for (const std::string name : {"bn1.running_mean", "bn1.running_var", "layer4.1.bn2.running_mean", "layer4.1.bn2.running_var"}) {
    Parameter* p = nullptr;
    for (auto& np : model->named_parameters())
      if (np.name == name) p = np.param;
    REQUIRE(p);
    check_close(name + " after one forward", p->value.data(), golden.find("expected.train." + name));
  }
  // PyTorch counts the batch: num_batches_tracked goes from the file's value up by one.
  for (auto& np : model->named_parameters())
    if (np.name == "bn1.num_batches_tracked") CHECK(np.param->value.values()[0] == golden.find(np.name)->i64[0] + 1);
}

TEST_CASE("a small ResNet's training step matches finite differences", "[resnet][gradients]") {
  // The whole network as one block, checked by the testkit: batch-statistics BatchNorm, a
  // projection and an identity shortcut, relu after the sums, adaptive pooling, the head.
  test::register_layer_types();
  const Value net = parse_value(R"({layers: [
      {conv2d: {name: conv1, out: 4, kernel: 3, padding: 1, bias: false}}, {batchnorm2d: {name: bn1}}, {relu: {name: relu}},
      {residual: {name: block1, layers: [{conv2d: {name: conv1, out: 6, kernel: 3, stride: 2, padding: 1, bias: false}},
                                         {batchnorm2d: {name: bn1}}, {relu: {name: relu1}},
                                         {conv2d: {name: conv2, out: 6, kernel: 3, padding: 1, bias: false}}, {batchnorm2d: {name: bn2}}],
                  shortcut: [{conv2d: {name: "0", out: 6, kernel: 1, stride: 2, bias: false}}, {batchnorm2d: {name: "1"}}],
                  after: [{relu: {name: relu}}]}},
      {residual: {name: block2, layers: [{conv2d: {name: conv1, out: 6, kernel: 3, padding: 1, bias: false}}, {batchnorm2d: {name: bn1}}],
                  after: [{relu: {name: relu}}]}},
      {adaptive_avgpool2d: {name: avgpool}}, {flatten: {name: flatten}}, {linear: {name: fc, out: 3}}]})");
  auto layer = testing::make_layer("sequential", net, {2, 6, 6}, 5);
  testing::GradientCheckOptions options;
  options.batch = 3;
  options.max_coordinates = 16;
  options.eps = 1e-3;
  const auto result = testing::check_layer_gradients(*layer, {2, 6, 6}, options);
  INFO(result.text());
  CHECK(result.ok());
  std::printf("small resnet: %s\n", result.notes.front().c_str());
}
