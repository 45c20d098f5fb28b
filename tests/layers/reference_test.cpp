// Every optimised layer against its plain twin (LayerInfo::reference), forward and backward, in
// f32 and bf16, at random shapes, strides, paddings, dilations, groups and batch sizes: the
// golden models only cover the shapes they happen to have.
#include <catch2/catch.hpp>

#include <cmath>

#include "layer_support.hpp"
#include "pipeline/extensions.hpp"
#include "pipeline/rng.hpp"
#include "pipeline/testing.hpp"
#include "pipeline/value.hpp"

using namespace pipeline;

namespace {

struct Case {
  std::string params;
  Shape sample;
  std::int64_t batch;
};

std::int64_t pick(Rng& rng, std::int64_t lo, std::int64_t hi) {
  return lo + static_cast<std::int64_t>(rng.uniform_int(static_cast<std::uint64_t>(hi - lo + 1)));
}

// Convolutions whose kernel fits the padded input; groups divide both channel counts.
std::vector<Case> conv_cases(int count, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Case> cases;
  while (static_cast<int>(cases.size()) < count) {
    const std::int64_t groups = pick(rng, 1, 3), in = groups * pick(rng, 1, 4), out = groups * pick(rng, 1, 4);
    const std::int64_t kernel = pick(rng, 1, 5), stride = pick(rng, 1, 3), padding = pick(rng, 0, 2),
                       dilation = pick(rng, 1, 2), h = pick(rng, 3, 11), w = pick(rng, 3, 11);
    if (h + 2 * padding < dilation * (kernel - 1) + 1 || w + 2 * padding < dilation * (kernel - 1) + 1) continue;
    cases.push_back({"{out: " + std::to_string(out) + ", kernel: " + std::to_string(kernel) + ", stride: " +
                         std::to_string(stride) + ", padding: " + std::to_string(padding) + ", dilation: " +
                         std::to_string(dilation) + ", groups: " + std::to_string(groups) +
                         ", bias: " + (rng.uniform_int(2) ? "true" : "false") + "}",
                     {in, h, w}, pick(rng, 1, 5)});
  }
  return cases;
}

std::vector<Case> linear_cases(int count, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Case> cases;
  for (int i = 0; i < count; ++i)
    cases.push_back({"{out: " + std::to_string(pick(rng, 1, 40)) + ", bias: " + (rng.uniform_int(2) ? "true" : "false") + "}",
                     {pick(rng, 1, 70)}, pick(rng, 1, 9)});
  return cases;
}

void check_cases(const std::string& type, const std::vector<Case>& cases, Precision precision) {
  test::register_layer_types();
  for (const Case& c : cases) {
    INFO(type << " " << c.params << " on " << to_string(c.sample) << ", batch " << c.batch << ", " << to_string(precision));
    testing::ReferenceCheckOptions options;
    options.batch = c.batch;
    const testing::CheckResult result =
        testing::check_layer_against_reference(type, parse_value(c.params), c.sample, precision, options);
    INFO(result.text());
    CHECK(result.ok());
  }
}

// The largest |a - b| over the two layers' outputs, to show that bf16 is really in effect.
double bf16_effect(const std::string& type, const std::string& params, const Shape& sample) {
  test::register_layer_types();
  auto layer = testing::make_layer(type, parse_value(params), sample);
  Shape shape = sample;
  shape.insert(shape.begin(), 2);
  Tensor x(shape);
  Rng rng(3);
  for (float& v : x.values()) v = rng.uniform(-1.0f, 1.0f);
  Tensor y32, y16;
  layer->forward(x, y32, Mode::eval);
  {
    const PrecisionScope bf16(Precision::bf16);
    layer->forward(x, y16, Mode::eval);
  }
  double worst = 0;
  for (std::size_t i = 0; i < y32.values().size(); ++i)
    worst = std::max(worst, static_cast<double>(std::fabs(y32.values()[i] - y16.values()[i])));
  return worst;
}

}  // namespace

TEST_CASE("conv2d matches its plain reference at random shapes in f32 and bf16", "[layers][reference]") {
  const auto cases = conv_cases(24, 7);
  SECTION("f32") { check_cases("conv2d", cases, Precision::f32); }
  SECTION("bf16") { check_cases("conv2d", cases, Precision::bf16); }
}

TEST_CASE("linear matches its plain reference at random shapes in f32 and bf16", "[layers][reference]") {
  const auto cases = linear_cases(24, 11);
  SECTION("f32") { check_cases("linear", cases, Precision::f32); }
  SECTION("bf16") { check_cases("linear", cases, Precision::bf16); }
}

TEST_CASE("precision bf16 changes what conv2d and linear compute, and only inside its scope", "[layers][reference]") {
  // bf16 keeps 8 significant bits: on sums of a few dozen products in [-1, 1] the outputs move by
  // about 1e-3; f32 alone would give 0.
  CHECK(bf16_effect("conv2d", "{out: 4, kernel: 3, padding: 1}", {3, 6, 6}) > 1e-4);
  CHECK(bf16_effect("linear", "{out: 5}", {40}) > 1e-4);
  CHECK(compute_precision() == Precision::f32);
}

TEST_CASE("round_to_bf16 rounds to nearest, ties to even, as oneDNN converts", "[layers][reference]") {
  CHECK(round_to_bf16(1.0f) == 1.0f);
  CHECK(round_to_bf16(1.0f + 1.0f / 256) == 1.0f);              // a tie: to the even neighbour 1.0
  CHECK(round_to_bf16(1.0f + 3.0f / 256) == 1.0f + 4.0f / 256); // a tie: to the even neighbour 1 + 2^-6
  CHECK(round_to_bf16(1.0f + 1.5f / 256) == 1.0f + 2.0f / 256); // above the tie: up
  CHECK(round_to_bf16(-3.14159f) == -3.140625f);
  CHECK(std::isnan(round_to_bf16(NAN)));
  CHECK(std::isinf(round_to_bf16(INFINITY)));
}

TEST_CASE("every layer type with bf16 primitives has a reference", "[layers][reference]") {
  test::register_layer_types();
  for (const char* type : {"conv2d", "linear"}) {
    INFO(type);
    REQUIRE(find_layer_type(type));
    CHECK(find_layer_type(type)->reference);
  }
}
