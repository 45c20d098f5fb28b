// Training-time augmentation: each transform does what torchvision's does, the draws follow the
// stage seed and the epoch (bit-reproducible), shapes are checked, cached features are turned off
// with a log line, and bad transform lists are located errors.
#include <catch2/catch.hpp>

#include "augmentation.hpp"
#include "pipeline/json.hpp"
#include "pipeline/schema.hpp"
#include "pipeline/testing.hpp"

using namespace pipeline;

namespace {

class Collect : public Diagnostics {
 public:
  void error(const Location&, const std::string& m) override { messages.push_back(m); }
  std::vector<std::string> messages;
};

data::Augmentation parse(const std::string& yaml) {
  ThrowingDiagnostics diag;
  return data::Augmentation::parse(parse_value(yaml), diag);
}

Tensor ramp(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
  Tensor t({n, c, h, w});
  for (std::int64_t i = 0; i < t.numel(); ++i) t.values()[static_cast<std::size_t>(i)] = static_cast<float>(i);
  return t;
}

}  // namespace

TEST_CASE("augmentation transforms do what torchvision's do", "[augment]") {
  Rng rng(1);
  Tensor out;
  const Tensor x = ramp(2, 1, 3, 4);
  parse("[{horizontal_flip: {p: 1}}]").apply(x, out, rng);
  CHECK(out.values()[0] == 3.0f);  // row 0 reversed: 3 2 1 0
  CHECK(out.values()[3] == 0.0f);
  parse("[{horizontal_flip: {p: 0}}]").apply(x, out, rng);
  CHECK(out.values() == x.values());

  // random_crop of the full size with padding 1: a shifted window with zeros where it leaves the image.
  const auto pad = parse("[{random_crop: {size: [3, 4], padding: 1}}]");
  CHECK(pad.output_shape({1, 3, 4}) == Shape{1, 3, 4});
  bool shifted = false;
  for (int i = 0; i < 20; ++i) {
    pad.apply(x, out, rng);
    shifted = shifted || out.values() != std::vector<float>(x.values().begin(), x.values().end());
  }
  CHECK(shifted);

  const auto rrc = parse("[{random_resized_crop: {size: 8, scale: [0.5, 1]}}]");
  CHECK(rrc.output_shape({3, 12, 10}) == Shape{3, 8, 8});
  rrc.apply(ramp(2, 3, 12, 10), out, rng);
  CHECK(out.shape() == Shape{2, 3, 8, 8});

  parse("[{normalize: {mean: [1], std: [2]}}]").apply(x, out, rng);
  CHECK(out.values()[5] == Approx((5.0f - 1) / 2));
  CHECK_THROWS_WITH(parse("[{normalize: {mean: [1, 2, 3], std: [1, 1, 1]}}]").output_shape({1, 3, 4}),
                    Catch::Contains("normalize has 3 means for samples of 1 channels"));
  CHECK_THROWS_WITH(parse("[{random_crop: {size: 9}}]").output_shape({1, 3, 4}), Catch::Contains("larger than the padded sample"));
}

TEST_CASE("bad transform lists are located errors before anything runs", "[augment]") {
  Collect diag;
  data::Augmentation::parse(parse_value("[horizontal_flp, {random_crop: {size: [1, 2, 3]}}, {random_resized_crop: {size: 4, scale: [1, 0.5]}}]"),
                            diag);
  REQUIRE(diag.messages.size() == 3);
  CHECK(diag.messages[0] == "augment: unknown transform 'horizontal_flp'; did you mean 'horizontal_flip'?");
  CHECK(diag.messages[1] == "augment: random_crop: 'size' needs [height, width] or [size], got [1, 2, 3]");
  CHECK(diag.messages[2] == "augment: random_resized_crop: 'scale' needs [low, high], got [1.0, 0.5]");
}

TEST_CASE("training with augmentation is reproducible and skips cached features", "[augment]") {
  testing::Harness kit;
  auto data = testing::make_dataset({1, 8, 8}, 3, 12);
  auto model = testing::make_model({1, 8, 8}, parse_value("[{conv2d: {out: 4, kernel: 3, padding: 1}}, relu, flatten, {linear: {out: 3}}]"));
  const Value params = parse_value("{epochs: 3, batch_size: 6, lr: 0.05, augment: [{random_crop: {size: 8, padding: 2}}, horizontal_flip]}");
  const auto a = kit.run_stage("train", params, {{"model", model}, {"data", data}}, 5);
  const auto b = kit.run_stage("train", params, {{"model", model}, {"data", data}}, 5);
  CHECK(to_json(a.metrics) == to_json(b.metrics));
  const auto other = kit.run_stage("train", params, {{"model", model}, {"data", data}}, 6);
  CHECK(to_json(a.metrics) != to_json(other.metrics));
  const auto plain = kit.run_stage("train", parse_value("{epochs: 3, batch_size: 6, lr: 0.05}"), {{"model", model}, {"data", data}}, 5);
  CHECK(to_json(a.metrics) != to_json(plain.metrics));

  // A frozen prefix whose inputs the augmentation changes is not cached.
  const auto frozen = kit.run_stage("freeze", parse_value("{all_but_last: 1}"), {{"model", model}});
  const auto ft = kit.run_stage("finetune", parse_value("{epochs: 1, augment: [horizontal_flip]}"),
                                {{"model", frozen.outputs.at("model")}, {"data", data}});
  bool said = false;
  for (const auto& l : ft.logs) said = said || l == "augmentation changes the inputs every epoch: the frozen layers' outputs are not cached";
  CHECK(said);
  CHECK(ft.metrics.find("cached_features")->as_bool() == false);

  // Larger samples cropped to the model's input: the augmented shape is what must fit.
  auto big = testing::make_dataset({1, 10, 10}, 3, 6);
  CHECK(kit.run_stage("train", parse_value("{augment: [{random_resized_crop: {size: 8}}]}"), {{"model", model}, {"data", big}})
            .metrics.find("steps")->as_int() == 1);
  // Samples the model does not take after the transforms.
  CHECK_THROWS_WITH(kit.run_stage("train", parse_value("{augment: [{random_crop: {size: 6}}]}"), {{"model", model}, {"data", data}}),
                    Catch::Contains("augmentation turns samples of [1, 8, 8] into [1, 6, 6], but the model takes [1, 8, 8]"));
}
