#include <catch2/catch.hpp>

#include <set>

#include "pipeline/error.hpp"
#include "sampling.hpp"

using namespace pipeline;
using namespace pipeline::data;

namespace {
std::vector<std::int32_t> labels_0_to_9(int per_class) {
  std::vector<std::int32_t> labels;
  for (int i = 0; i < per_class * 10; ++i) labels.push_back(i % 10);
  return labels;
}
}  // namespace

TEST_CASE("classes are kept and relabelled in the order given", "[sampling]") {
  auto s = select_classes(labels_0_to_9(3), {7, 2}, {}, "src");
  CHECK(s.class_names == std::vector<std::string>{"7", "2"});
  CHECK(s.indices == std::vector<std::int64_t>{2, 7, 12, 17, 22, 27});
  CHECK(s.labels == std::vector<std::int32_t>{1, 0, 1, 0, 1, 0});
  CHECK_THROWS_WITH(select_classes(labels_0_to_9(3), {11}, {}, "src"),
                    "src: class 11 has no samples (labels present: 0..9)");
  auto all = select_classes(labels_0_to_9(1), {}, {}, "src");
  CHECK(all.class_names.size() == 10);
  CHECK(all.indices.size() == 10);
}

TEST_CASE("per-class sampling takes K of each class, reproducibly", "[sampling]") {
  auto all = select_classes(labels_0_to_9(20), {}, {}, "src");
  Rng a(5), b(5), c(6);
  auto s1 = take_per_class(all, 4, a, "src");
  auto s2 = take_per_class(all, 4, b, "src");
  auto s3 = take_per_class(all, 4, c, "src");
  CHECK(s1.indices == s2.indices);
  CHECK(s1.indices != s3.indices);
  REQUIRE(s1.indices.size() == 40);
  std::vector<int> counts(10, 0);
  for (auto l : s1.labels) ++counts[l];
  for (int n : counts) CHECK(n == 4);
  CHECK(std::is_sorted(s1.indices.begin(), s1.indices.end()));
  Rng d(1);
  CHECK_THROWS_WITH(take_per_class(all, 21, d, "src"), "src: class 0 has 20 samples, fewer than per_class = 21");
}

TEST_CASE("the stratified split holds out a fraction of each class, disjointly", "[sampling]") {
  auto all = select_classes(labels_0_to_9(10), {}, {}, "src");
  Rng rng(1);
  Selection train, test;
  split_stratified(all, 0.3, rng, train, test);
  CHECK(train.indices.size() == 70);
  CHECK(test.indices.size() == 30);
  std::set<std::int64_t> seen(train.indices.begin(), train.indices.end());
  for (auto i : test.indices) CHECK(seen.insert(i).second);
  std::vector<int> counts(10, 0);
  for (auto l : test.labels) ++counts[l];
  for (int n : counts) CHECK(n == 3);
}
