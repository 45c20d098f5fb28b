// Active learning's pieces: uncertainty scores on hand-computed probabilities, k-center greedy on
// points whose answer is known, and the stages that start the pool and move picks out of it.
#include <catch2/catch.hpp>

#include <cmath>

#include "active_stages.hpp"
#include "layer_support.hpp"
#include "pipeline/dataset.hpp"
#include "selection.hpp"
#include "support/fake_context.hpp"

using namespace pipeline;

namespace {


// n samples of `classes` classes in turn; each sample's 2 features are (index, class).
std::shared_ptr<Dataset> points(std::int64_t n, int classes) {
  std::vector<float> x;
  std::vector<std::int32_t> y;
  std::vector<std::string> names;
  for (int c = 0; c < classes; ++c) names.push_back("c" + std::to_string(c));
  for (std::int64_t i = 0; i < n; ++i) {
    x.push_back(static_cast<float>(i));
    x.push_back(static_cast<float>(i % classes));
    y.push_back(static_cast<std::int32_t>(i % classes));
  }
  return std::make_shared<Dataset>(Tensor({n, 2}, std::move(x)), std::move(y), names);
}

}  // namespace

TEST_CASE("uncertainty scores rank the least certain predictions first", "[active]") {
  const std::vector<float> p = {0.7f, 0.2f, 0.1f,  // confident
                                0.4f, 0.35f, 0.25f,  // unsure
                                0.5f, 0.5f, 0.0f};   // a tie between two
  const auto lc = active::uncertainty_scores(p, 3, "least_confidence");
  CHECK(lc[0] == Approx(0.3));
  CHECK(lc[1] == Approx(0.6));
  CHECK(lc[2] == Approx(0.5));
  const auto margin = active::uncertainty_scores(p, 3, "margin");
  CHECK(margin[0] == Approx(-0.5));
  CHECK(margin[1] == Approx(-0.05));
  CHECK(margin[2] == Approx(0.0));
  const auto entropy = active::uncertainty_scores(p, 3, "entropy");
  CHECK(entropy[0] == Approx(-(0.7 * std::log(0.7) + 0.2 * std::log(0.2) + 0.1 * std::log(0.1))));
  CHECK(entropy[2] == Approx(std::log(2.0)));
  CHECK(active::top_k(lc, 2) == std::vector<std::int64_t>{1, 2});
  CHECK(active::top_k(margin, 1) == std::vector<std::int64_t>{2});
  CHECK(active::top_k(entropy, 3) == std::vector<std::int64_t>{1, 0, 2});
  CHECK(active::top_k({1.0, 2.0, 2.0, 1.0}, 3) == std::vector<std::int64_t>{1, 2, 0});  // ties: lower index
}

TEST_CASE("k-center greedy picks the point farthest from every center", "[active]") {
  // 1-d: a labelled point at 0; the pool at 1, 2, 10, 11.
  const std::vector<float> pool = {1, 2, 10, 11}, labelled = {0};
  CHECK(active::k_center_greedy(pool, labelled, 1, 1) == std::vector<std::int64_t>{3});
  CHECK(active::k_center_greedy(pool, labelled, 1, 3) == std::vector<std::int64_t>{3, 1, 0});
  // No labelled points: the first pick is pool point 0; duplicates are never picked twice.
  CHECK(active::k_center_greedy({5, 5, 5}, {}, 1, 3) == std::vector<std::int64_t>{0, 1, 2});
  // 2-d distances.
  CHECK(active::k_center_greedy({0, 1, 1, 0, 3, 3}, {0, 0}, 2, 1) == std::vector<std::int64_t>{2});
}

TEST_CASE("active_split starts with per_class labelled samples and pools the rest", "[active]") {
  const StageInfo info = active::active_split_stage();
  test::FakeContext ctx(9);
  ctx.inputs["data"] = points(100, 4);
  info.create(test::params_of(info, "{per_class: 3, pool: 50}"))->run(ctx);
  auto labelled = std::dynamic_pointer_cast<const Dataset>(ctx.outputs.at("labelled"));
  auto pool = std::dynamic_pointer_cast<const Dataset>(ctx.outputs.at("pool"));
  CHECK(labelled->class_counts() == std::vector<std::int64_t>{3, 3, 3, 3});
  CHECK(pool->size() == 50);
  for (std::int64_t i = 0; i < labelled->size(); ++i)
    for (std::int64_t j = 0; j < pool->size(); ++j) CHECK(labelled->sample(i)[0] != pool->sample(j)[0]);

  test::FakeContext too_few(9, "start");
  too_few.inputs["data"] = points(10, 4);
  CHECK_THROWS_WITH(info.create(test::params_of(info, "{per_class: 3}"))->run(too_few),
                    Catch::Contains("input of stage 'start': class c2 has 2 samples, fewer than per_class = 3"));
}

TEST_CASE("active_select moves its picks with their labels from the pool to the labelled set", "[active]") {
  const StageInfo info = active::active_select_stage();
  // A model that predicts from the first feature: far from 50 it is confident, near 50 unsure.
  auto model = test::model_from_yaml({2}, "[{linear: {name: fc, out: 2}}]");
  for (auto& p : model->named_parameters()) {
    float* v = p.param->value.data();
    if (p.name == "fc.weight") v[0] = 1, v[1] = 0, v[2] = -1, v[3] = 0;  // logits (x, -x): shifted below
    else v[0] = -50, v[1] = 50;
  }
  std::shared_ptr<const Model> shared(std::move(model));
  auto run = [&](const std::string& strategy, std::int64_t batch, std::uint64_t seed = 1) {
    test::FakeContext ctx(seed);
    ctx.inputs["model"] = shared;
    ctx.inputs["labelled"] = points(4, 2);
    ctx.inputs["pool"] = points(101, 2);
    info.create(test::params_of(info, "{strategy: " + strategy + ", batch: " + std::to_string(batch) + "}"))->run(ctx);
    return ctx;
  };
  auto ctx = run("margin", 3);
  auto picked = std::dynamic_pointer_cast<const Dataset>(ctx.outputs.at("selected"));
  auto labelled = std::dynamic_pointer_cast<const Dataset>(ctx.outputs.at("labelled"));
  auto pool = std::dynamic_pointer_cast<const Dataset>(ctx.outputs.at("pool"));
  REQUIRE(picked->size() == 3);
  CHECK(picked->sample(0)[0] == 50);  // the most uncertain first
  CHECK(std::abs(picked->sample(1)[0] - 50) == 1);
  CHECK(std::abs(picked->sample(2)[0] - 50) == 1);
  CHECK(labelled->size() == 7);
  CHECK(labelled->labels()[4] == 0);  // sample 50's own label comes with it
  CHECK(pool->size() == 98);
  CHECK(ctx.metrics.find("labelled")->as_int() == 7);

  // random: seeded and reproducible; k_center: away from the labelled points 0..3.
  auto a = std::dynamic_pointer_cast<const Dataset>(run("random", 5, 7).outputs.at("selected"));
  auto b = std::dynamic_pointer_cast<const Dataset>(run("random", 5, 7).outputs.at("selected"));
  auto c = std::dynamic_pointer_cast<const Dataset>(run("random", 5, 8).outputs.at("selected"));
  CHECK(a->features().numel() == 10);
  CHECK(std::equal(a->features().data(), a->features().data() + 10, b->features().data()));
  CHECK_FALSE(std::equal(a->features().data(), a->features().data() + 10, c->features().data()));
  auto k = std::dynamic_pointer_cast<const Dataset>(run("k_center", 2).outputs.at("selected"));
  CHECK(k->sample(0)[0] == 100);

  CHECK_THROWS_WITH(run("entropy", 102), Catch::Contains("batch 102 is larger than the pool, which holds 101 samples"));
}
