// The seed CNN and the RNN/LSTM/GRU models against PyTorch 1.13 (../shared/golden): logits, loss,
// every gradient including the input's, and one SGD step (lr 0.05, momentum 0.9, weight decay 1e-4).
#include <catch2/catch.hpp>

#include <filesystem>

#include "layer_support.hpp"
#include "loss.hpp"
#include "optimizer.hpp"
#include "pipeline/safetensors.hpp"

using namespace pipeline;

namespace {

std::filesystem::path golden_dir() { return std::filesystem::path(PIPELINE_SOURCE_DIR) / ".." / "shared" / "golden"; }

const char* cnn_layers = R"([
  {conv2d: {name: conv1, out: 32, kernel: 3, padding: 1}}, relu, {maxpool2d: {kernel: 2}},
  {conv2d: {name: conv2, out: 64, kernel: 3, padding: 1}}, relu, {maxpool2d: {kernel: 2}},
  flatten, {linear: {name: fc1, out: 128}}, relu, {linear: {name: fc2, out: 10}}])";

std::string recurrent_layers(const std::string& cell) {
  return "[{" + cell + ": {name: rnn, hidden: 128, layers: 2}}, {linear: {name: fc, out: 10}}]";
}

void check_close(const float* got, const SafetensorsEntry& want, const std::string& what) {
  const auto m = test::compare(got, want.f32.data(), want.f32.size());
  INFO(what << ": worst at " << m.index << ": got " << m.got << ", want " << m.want);
  CHECK(m.excess <= 0);
}

void check_against_golden(const std::string& file, const std::string& layers) {
  const auto path = golden_dir() / file;
  if (!std::filesystem::exists(path)) {
    WARN("no golden file " << path.string() << ": skipped");
    return;
  }
  const SafetensorsFile golden = read_safetensors(path);
  auto model = test::model_from_yaml({1, 28, 28}, layers);
  for (auto& np : model->named_parameters()) {
    const SafetensorsEntry* t = golden.find(np.name);
    INFO("parameter " << np.name);
    REQUIRE(t);
    REQUIRE(t->shape == np.param->value.shape());
    np.param->value.values() = t->f32;
  }
  const SafetensorsEntry* input = golden.find("input");
  const SafetensorsEntry* labels64 = golden.find("labels");
  REQUIRE(input);
  REQUIRE(labels64);
  Tensor x(input->shape, input->f32);
  std::vector<std::int32_t> labels(labels64->i64.begin(), labels64->i64.end());

  Tensor logits, grad;
  model->forward(x, logits, Mode::train);
  check_close(logits.data(), *golden.find("expected.logits"), "logits");
  train::CrossEntropy ce;
  const double loss = ce(logits, labels.data(), &grad);
  CHECK(loss == Approx(golden.find("expected.loss")->f32[0]).epsilon(1e-4));

  model->backward(grad, /*need_input_grad=*/true);
  check_close(model->input_grad().data(), *golden.find("expected.grad.input"), "grad.input");
  for (auto& np : model->named_parameters())
    check_close(np.param->grad.data(), *golden.find("expected.grad." + np.name), "grad." + np.name);

  auto optimizer = train::builtin_optimizer("sgd", parse_value("{momentum: 0.9, weight_decay: 0.0001}")).create();
  for (auto& np : model->named_parameters()) optimizer->add(np.param, 1.0);
  optimizer->step(0.05);
  for (auto& np : model->named_parameters())
    check_close(np.param->value.data(), *golden.find("expected.sgd_step." + np.name), "sgd_step." + np.name);
}

}  // namespace

TEST_CASE("the seed CNN matches PyTorch", "[layers][golden]") { check_against_golden("cnn.safetensors", cnn_layers); }
TEST_CASE("the 2-layer RNN matches PyTorch", "[layers][golden]") {
  check_against_golden("rnn.safetensors", recurrent_layers("rnn"));
}
TEST_CASE("the 2-layer LSTM matches PyTorch", "[layers][golden]") {
  check_against_golden("lstm.safetensors", recurrent_layers("lstm"));
}
TEST_CASE("the 2-layer GRU matches PyTorch", "[layers][golden]") {
  check_against_golden("gru.safetensors", recurrent_layers("gru"));
}
