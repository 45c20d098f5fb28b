// The testkit itself (pipeline/testing.hpp): its gradient check catches a wrong backward and
// passes a right one, its harness runs a stage as the CLI would and refuses bad parameters.
#include <catch2/catch.hpp>

#include <cmath>

#include "pipeline/codec.hpp"
#include "pipeline/schema.hpp"
#include "pipeline/testing.hpp"

using namespace pipeline;

namespace {

// y = x^2 elementwise, with a backward that is right or off by a factor at one coordinate.
class Square : public Layer {
 public:
  Square(float factor, std::size_t at) : Layer("square", "sq"), factor_(factor), at_(at) {
    Parameter w;
    w.name = "weight";
    w.value = Tensor({1}, {1.5f});
    params_.push_back(w);
  }
  Shape output_shape(const Shape& input) const override { return input; }
  void initialize(Rng&) override {}
  void forward(const Tensor& input, Tensor& output, Mode) override {
    input_ = &input;
    output.resize(input.shape());
    const float w = params_[0].value.values()[0];
    for (std::size_t i = 0; i < input.values().size(); ++i) output.values()[i] = w * input.values()[i] * input.values()[i];
  }
  void backward(const Tensor& g, Tensor* grad_input) override {
    const float w = params_[0].value.values()[0];
    params_[0].grad = Tensor({1});
    for (std::size_t i = 0; i < g.values().size(); ++i)
      params_[0].grad.values()[0] += g.values()[i] * input_->values()[i] * input_->values()[i];
    if (!grad_input) return;
    grad_input->resize(g.shape());
    for (std::size_t i = 0; i < g.values().size(); ++i)
      grad_input->values()[i] = g.values()[i] * 2 * w * input_->values()[i] * (i == at_ ? factor_ : 1.0f);
  }
  std::unique_ptr<Layer> clone_layer() const override { return std::make_unique<Square>(factor_, at_); }

 private:
  float factor_;
  std::size_t at_;
  const Tensor* input_ = nullptr;
};

}  // namespace

TEST_CASE("the gradient check passes a right backward and names the coordinate of a wrong one", "[testkit]") {
  Square right(1.0f, 0);
  const auto ok = testing::check_layer_gradients(right, {4});
  INFO(ok.text());
  CHECK(ok.ok());
  REQUIRE(ok.notes.size() == 1);
  CHECK(ok.notes[0].find("gradients: 9 coordinates of 2 tensors within 0.001 + 0.01 * |numeric|") == 0);

  Square wrong(1.5f, 5);  // batch 2 x [4]: index 5 is the second sample's second value
  const auto bad = testing::check_layer_gradients(wrong, {4});
  REQUIRE(bad.failures.size() == 1);
  CHECK(bad.failures[0].find("backward: input gradient differs from finite differences: max rel err 0.5 at index 5") == 0);
}

TEST_CASE("the harness runs a stage with checked parameters on synthetic inputs", "[testkit]") {
  testing::Harness kit;
  REQUIRE(kit.load_errors().empty());
  auto data = testing::make_dataset({1, 3, 3}, 3, 10);
  REQUIRE(data->size() == 30);
  const auto run = kit.run_stage("subset", parse_value("{per_class: 4}"), {{"data", data}});
  auto out = run.output_as<Dataset>("data");
  REQUIRE(out);
  CHECK(out->size() == 12);

  // A parameter the schema refuses, as validate would word it, and a missing input.
  try {
    kit.run_stage("subset", parse_value("{per_clas: 4}"), {{"data", data}});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.message() == "stage type subset: unknown parameter 'per_clas'; did you mean 'per_class'?");
  }
  CHECK_THROWS_WITH(kit.run_stage("subset", Value::map(), {}), Catch::Contains("input 'data' (dataset) is required"));

  // A model and a training stage: the loss goes down on the kit's separable classes.
  auto model = testing::make_model({1, 3, 3}, parse_value("[flatten, {linear: {out: 3}}]"));
  const auto trained = kit.run_stage("train", parse_value("{epochs: 5, batch_size: 10, lr: 0.1}"),
                                     {{"model", model}, {"data", data}});
  const auto scored = kit.run_stage("evaluate", Value::map(), {{"model", trained.outputs.at("model")}, {"data", data}});
  CHECK(scored.metrics.find("accuracy")->as_float() > 0.9);
}

TEST_CASE("the harness's conformance checks find a wrong layer among good ones", "[testkit]") {
  testing::Harness kit({BROKEN_PLUGIN_DIR "/wrong_backward/wrong_backward.so"});
  REQUIRE(kit.load_errors().empty());
  CHECK(kit.check_layer_type("relu").ok());
  CHECK(kit.check_optimizer("adam").ok());
  const auto wrong = kit.check_layer_type("wrong_backward");
  CHECK_FALSE(wrong.ok());
  const auto plugin = kit.check_plugin("wrong_backward");
  CHECK(plugin.failures.size() == wrong.failures.size());
  CHECK(plugin.failures.front().rfind("layer wrong_backward: ", 0) == 0);
}

TEST_CASE("a head replaced inside a block survives the cache", "[testkit][codec]") {
  // MobileNetV2's head is classifier.1: replace_head swaps it inside the block, and the model
  // rebuilt from its description (what the cache stores) must be the replaced one.
  testing::Harness kit;
  auto model = testing::make_model(
      {1, 6, 6}, parse_value("[{conv2d: {name: conv, out: 3, kernel: 3}}, flatten, "
                             "{sequential: {name: classifier, layers: [{dropout: {p: 0.2}}, {linear: {out: 10}}]}}]"));
  const auto replaced = kit.run_stage("replace_head", parse_value("{classes: 4}"), {{"model", model}});
  auto head = replaced.output_as<Model>("model");
  REQUIRE(head->output_shape() == Shape{4});
  const CodecInfo* codec = find_codec("model");
  REQUIRE(codec);
  const auto dir = std::filesystem::temp_directory_path() / "pipeline-nested-head-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  codec->encode(*head, dir);
  auto back = std::dynamic_pointer_cast<const Model>(codec->decode(dir));
  std::filesystem::remove_all(dir);
  REQUIRE(back);
  CHECK(back->output_shape() == Shape{4});
  auto a = head->clone(), b = back->clone();
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    CHECK(pa[i].name == pb[i].name);
    CHECK(pa[i].param->value.values() == pb[i].param->value.values());
  }
  // A projection shortcut that no longer matches its block is refused, not summed out of bounds.
  auto res = testing::make_model({2, 4, 4}, parse_value(
      "[{residual: {name: block, layers: [{conv2d: {out: 2, kernel: 3, padding: 1}}], shortcut: [{conv2d: {out: 2, kernel: 1}}]}}]"));
  auto copy = res->clone();
  const LayerInfo* conv = find_layer_type("conv2d");
  ThrowingDiagnostics diag;
  auto wider = conv->create("0", check_params(conv->params, parse_value("{out: 3, kernel: 1}"), "conv", {}, "/", diag), {2, 4, 4});
  CHECK_THROWS_WITH(copy->replace("block.downsample.0", std::move(wider)), Catch::Contains("its shortcut [3, 4, 4]"));
}
