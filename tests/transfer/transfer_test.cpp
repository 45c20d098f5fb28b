// Transfer learning as users rely on it: frozen parameters stay bit-identical and get no gradient,
// cached features train the same model as the uncached path, learning-rate multipliers scale the
// right layers, heads are replaced and models truncated as asked.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "layer_support.hpp"
#include "pipeline/dataset.hpp"
#include "transfer_stages.hpp"
#include "support/fake_context.hpp"
#include "train_loop.hpp"

using namespace pipeline;

namespace {

const char* small_cnn = R"([{conv2d: {name: conv1, out: 4, kernel: 3, padding: 1}}, relu, {maxpool2d: {kernel: 2}},
  {conv2d: {name: conv2, out: 8, kernel: 3, padding: 1}}, relu, {maxpool2d: {kernel: 2}},
  flatten, {linear: {name: fc1, out: 16}}, relu, {linear: {name: fc2, out: 3}}])";

std::unique_ptr<Model> make_model(std::uint64_t seed = 7) {
  auto m = test::model_from_yaml({1, 8, 8}, small_cnn);
  Rng rng(seed);
  for (std::size_t i = 0; i < m->size(); ++i) m->layer(i).initialize(rng);
  return m;
}

// Three classes of 8x8 images, each with its own bright region, plus noise.
Dataset make_data(std::int64_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(static_cast<std::size_t>(n * 64));
  std::vector<std::int32_t> y(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    y[i] = static_cast<std::int32_t>(i % 3);
    for (int p = 0; p < 64; ++p) x[i * 64 + p] = rng.uniform(0.0f, 0.3f) + ((p / 8) / 3 == y[i] ? 0.7f : 0.0f);
  }
  return Dataset(Tensor({n, 1, 8, 8}, std::move(x)), std::move(y), {"a", "b", "c"});
}

Params params_of(const std::vector<ParamSpec>& schema, const std::vector<std::pair<std::string, Value>>& given) {
  Value v = Value::map();
  for (const auto& spec : schema)
    if (spec.default_value) v.set(spec.name, *spec.default_value);
  for (const auto& [k, value] : given) v.set(k, value);
  return Params(v);
}

train::TrainOptions options(std::int64_t epochs, bool cache) {
  train::TrainOptions o;
  o.epochs = epochs;
  o.batch_size = 10;
  o.schedule.lr = 0.05;
  o.optimizer = train::builtin_optimizer("sgd", parse_value("{momentum: 0.9}"));
  o.cache_features = cache;
  return o;
}

void freeze(Model& m, std::initializer_list<const char*> names) {
  for (const char* n : names)
    for (auto& p : m.layer(static_cast<std::size_t>(m.find(n))).parameters()) p.trainable = false;
}

std::vector<float> values_of(Model& m, const std::string& layer) {
  std::vector<float> out;
  for (auto& p : m.layer(static_cast<std::size_t>(m.find(layer))).parameters())
    out.insert(out.end(), p.value.values().begin(), p.value.values().end());
  return out;
}

}  // namespace

TEST_CASE("frozen parameters stay bit-identical and compute no gradient", "[transfer]") {
  const Dataset data = make_data(60, 1);
  for (bool cache : {false, true}) {
    INFO("cache_features " << cache);
    auto model = make_model();
    freeze(*model, {"conv1", "conv2"});
    const auto conv1 = values_of(*model, "conv1"), conv2 = values_of(*model, "conv2"), fc1 = values_of(*model, "fc1");
    test::FakeContext ctx;
    train::train_model(*model, data, nullptr, options(3, cache), ctx);
    CHECK(values_of(*model, "conv1") == conv1);
    CHECK(values_of(*model, "conv2") == conv2);
    CHECK(values_of(*model, "fc1") != fc1);
    const auto& c1 = model->layer(0).counters();
    const auto& c2 = model->layer(3).counters();
    CHECK(c1.backward_weights == 0);
    CHECK(c2.backward_weights == 0);
    // Backward stops at the first trainable layer: no data gradient into the frozen prefix.
    CHECK(c1.backward_data == 0);
    CHECK(c2.backward_data == 0);
    CHECK(model->layer(7).counters().backward_weights == 18);  // fc1: 6 steps a epoch, 3 epochs
    // With the cache, the frozen prefix ran once per sample (one batch of 60), not every step.
    CHECK(c1.forward == (cache ? 1 : 18));
    CHECK(ctx.metrics.find("cached_features")->as_bool() == cache);
  }
}

TEST_CASE("a frozen layer between trainable ones passes gradients but computes none of its own", "[transfer]") {
  auto model = make_model();
  freeze(*model, {"conv2"});
  const auto conv2 = values_of(*model, "conv2");
  test::FakeContext ctx;
  train::train_model(*model, make_data(30, 2), nullptr, options(1, true), ctx);
  CHECK(values_of(*model, "conv2") == conv2);
  CHECK(model->layer(3).counters().backward_weights == 0);
  CHECK(model->layer(3).counters().backward_data == 3);
  CHECK(model->layer(0).counters().backward_weights == 3);
  CHECK_FALSE(ctx.metrics.find("cached_features")->as_bool());  // conv1 trains: nothing to cache
}

TEST_CASE("training on cached features gives the uncached result", "[transfer]") {
  const Dataset data = make_data(90, 3), test_data = make_data(60, 4);
  auto run = [&](bool cache) {
    auto model = make_model();
    freeze(*model, {"conv1", "conv2", "fc1"});
    test::FakeContext ctx;
    train::train_model(*model, data, nullptr, options(4, cache), ctx);
    return model;
  };
  auto cached = run(true), uncached = run(false);
  const auto a = values_of(*cached, "fc2"), b = values_of(*uncached, "fc2");
  double max_diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) max_diff = std::max(max_diff, std::fabs(double(a[i]) - b[i]));
  // The prefix runs as oneDNN inference primitives (cached) or training ones (uncached), in batches
  // of different sizes: the same arithmetic up to float rounding.
  WARN("largest difference in the trained head between cached and uncached: " << max_diff);
  CHECK(max_diff < 1e-4);
  Tensor x(test_data.features()), la, lb;
  cached->forward(x, la, Mode::eval);
  uncached->forward(x, lb, Mode::eval);
  for (std::int64_t i = 0; i < test_data.size(); ++i) {
    const float* ra = la.data() + i * 3;
    const float* rb = lb.data() + i * 3;
    CHECK(std::max_element(ra, ra + 3) - ra == std::max_element(rb, rb + 3) - rb);
  }
}

TEST_CASE("learning-rate multipliers apply to the layers their globs name", "[transfer]") {
  auto model = make_model();
  const auto before1 = values_of(*model, "fc1"), before2 = values_of(*model, "fc2"), conv = values_of(*model, "conv1");
  train::TrainOptions o = options(1, false);
  o.optimizer = train::builtin_optimizer("sgd");
  o.steps = 1;
  o.lr_multipliers = {{"fc1", 0.5}, {"conv*", 0.0}};
  test::FakeContext ctx;
  train::train_model(*model, make_data(30, 5), nullptr, o, ctx);
  // One plain SGD step: w' = w - lr * scale * grad, with the gradient still in the parameter.
  auto check_step = [&](const char* layer, const std::vector<float>& before, double scale) {
    std::size_t k = 0;
    for (auto& p : model->layer(static_cast<std::size_t>(model->find(layer))).parameters())
      for (std::int64_t i = 0; i < p.value.numel(); ++i, ++k)
        CHECK(p.value.values()[i] == Approx(before[k] - 0.05 * scale * p.grad.values()[i]).margin(1e-7));
  };
  check_step("fc1", before1, 0.5);
  check_step("fc2", before2, 1.0);
  CHECK(values_of(*model, "conv1") == conv);
}

TEST_CASE("gradual unfreezing adds one layer from the top every N epochs", "[transfer]") {
  auto model = make_model();
  freeze(*model, {"conv1", "conv2", "fc1", "fc2"});
  train::TrainOptions o = options(3, true);
  o.unfreeze_every = 1;
  test::FakeContext ctx;
  train::train_model(*model, make_data(30, 6), nullptr, o, ctx);
  // Epoch 1 trains fc2, epoch 2 adds fc1, epoch 3 adds conv2; conv1 stays frozen.
  CHECK(model->layer(9).has_trainable_parameters());
  CHECK(model->layer(7).has_trainable_parameters());
  CHECK(model->layer(3).has_trainable_parameters());
  CHECK_FALSE(model->layer(0).has_trainable_parameters());
  CHECK(model->layer(0).counters().backward_weights == 0);
  CHECK(model->layer(3).counters().backward_weights == 3);  // epoch 3 only: 3 steps
}

TEST_CASE("replace_head and truncate reshape the model; the head is seeded by the stage", "[transfer]") {
  auto run_replace = [](std::uint64_t seed, std::int64_t classes) {
    test::FakeContext ctx(seed);
    ctx.inputs["model"] = std::shared_ptr<const Model>(make_model());
    const StageInfo info = transfer::replace_head_stage();
    info.create(params_of(info.params, {{"classes", Value::integer(classes)}}))->run(ctx);
    return std::dynamic_pointer_cast<const Model>(ctx.outputs.at("model"));
  };
  auto a = run_replace(1, 5), b = run_replace(1, 5), c = run_replace(2, 5);
  CHECK(a->output_shape() == Shape{5});
  CHECK(a->layer(9).name() == "fc2");
  CHECK(a->layer(9).parameters()[0].value.shape() == Shape{5, 16});
  CHECK(a->layer(9).parameters()[0].value.values() == b->layer(9).parameters()[0].value.values());
  CHECK(a->layer(9).parameters()[0].value.values() != c->layer(9).parameters()[0].value.values());
  // The layers below the head are the input model's.
  CHECK(a->layer(7).parameters()[0].value.values() == make_model()->layer(7).parameters()[0].value.values());

  test::FakeContext ctx;
  ctx.inputs["model"] = std::shared_ptr<const Model>(make_model());
  const StageInfo info = transfer::truncate_stage();
  info.create(params_of(info.params, {{"after", Value::string("conv2")}}))->run(ctx);
  auto cut = std::dynamic_pointer_cast<const Model>(ctx.outputs.at("model"));
  CHECK(cut->size() == 4);
  CHECK(cut->output_shape() == Shape{8, 4, 4});
}

TEST_CASE("freeze selects layers by glob, range and all-but-last", "[transfer]") {
  auto frozen_names = [](std::vector<std::pair<std::string, Value>> given) {
    test::FakeContext ctx;
    ctx.inputs["model"] = std::shared_ptr<const Model>(make_model());
    const StageInfo info = transfer::freeze_stage();
    info.create(params_of(info.params, given))->run(ctx);
    auto m = std::dynamic_pointer_cast<const Model>(ctx.outputs.at("model"));
    std::vector<std::string> names;
    for (std::size_t i = 0; i < m->size(); ++i)
      if (!m->layer(i).parameters().empty() && !m->layer(i).has_trainable_parameters()) names.push_back(m->layer(i).name());
    return names;
  };
  CHECK(frozen_names({{"layers", Value::list({Value::string("conv*")})}}) == std::vector<std::string>{"conv1", "conv2"});
  CHECK(frozen_names({{"range", Value::list({Value::integer(0), Value::integer(-2)})}}) ==
        std::vector<std::string>{"conv1", "conv2", "fc1"});
  CHECK(frozen_names({{"all_but_last", Value::integer(1)}}) == std::vector<std::string>{"conv1", "conv2", "fc1"});
  CHECK(frozen_names({{"all_but_last", Value::integer(2)}}) == std::vector<std::string>{"conv1", "conv2"});
  CHECK_THROWS_WITH(frozen_names({{"layers", Value::list({Value::string("cnv*")})}}),
                    Catch::Contains("no layer matches 'cnv*'"));
}

TEST_CASE("precision bf16 trains as f32 does, reproducibly, with f32 master weights and a cached prefix", "[transfer][precision]") {
  const Dataset data = make_data(60, 1), test_data = make_data(60, 2);
  auto trained = [&](Precision precision, bool frozen_prefix) {
    auto model = make_model();
    if (frozen_prefix) freeze(*model, {"conv1", "conv2"});
    train::TrainOptions o = options(4, true);
    o.precision = precision;
    test::FakeContext ctx;
    train::train_model(*model, data, &test_data, o, ctx);
    CHECK(compute_precision() == Precision::f32);  // the scope ended with the training
    return model;
  };
  for (bool frozen : {false, true}) {
    INFO("frozen prefix " << frozen);
    auto f32 = trained(Precision::f32, frozen), bf16 = trained(Precision::bf16, frozen), again = trained(Precision::bf16, frozen);
    // Reproducible, and different from f32: bf16 really computed.
    CHECK(values_of(*bf16, "fc2") == values_of(*again, "fc2"));
    CHECK(values_of(*bf16, "fc2") != values_of(*f32, "fc2"));
    // The master weights are f32: updates smaller than bf16's spacing near the values still land.
    std::size_t off_grid = 0;
    for (float w : values_of(*bf16, "fc2")) off_grid += round_to_bf16(w) != w;
    CHECK(off_grid > 0);
    // And it learns the same task as well (the three classes are easy: both near 1).
    auto accuracy = [&](Model& m) {
      Tensor logits;
      m.forward(test_data.features(), logits, Mode::eval);
      std::int64_t right = 0;
      for (std::int64_t i = 0; i < test_data.size(); ++i) {
        const float* row = logits.data() + i * 3;
        right += std::max_element(row, row + 3) - row == test_data.labels()[static_cast<std::size_t>(i)];
      }
      return static_cast<double>(right) / static_cast<double>(test_data.size());
    };
    CHECK(accuracy(*bf16) == Approx(accuracy(*f32)).margin(0.05));
  }
}
