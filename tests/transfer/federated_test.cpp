// Federated averaging's pieces: the client partition (IID and Dirichlet), shared by every client
// stage; the weighted average of client models; FedProx's pull towards the starting weights.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "federated_partition.hpp"
#include "federated_stages.hpp"
#include "layer_support.hpp"
#include "pipeline/dataset.hpp"
#include "support/fake_context.hpp"
#include "train_loop.hpp"

using namespace pipeline;

namespace {

// counts[c] samples of class c, each sample's one feature its index.
Dataset labelled(const std::vector<int>& counts) {
  std::vector<float> x;
  std::vector<std::int32_t> y;
  std::vector<std::string> names;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    names.push_back("c" + std::to_string(c));
    for (int i = 0; i < counts[c]; ++i) {
      x.push_back(static_cast<float>(y.size()));
      y.push_back(static_cast<std::int32_t>(c));
    }
  }
  const auto n = static_cast<std::int64_t>(y.size());
  return Dataset(Tensor({n, 1}, std::move(x)), std::move(y), names);
}

std::vector<std::int64_t> class_counts(const Dataset& d, const std::vector<std::int64_t>& part) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(d.num_classes()), 0);
  for (auto i : part) ++counts[static_cast<std::size_t>(d.labels()[static_cast<std::size_t>(i)])];
  return counts;
}

// Every sample in exactly one part; parts ascending.
void check_is_partition(const std::vector<std::vector<std::int64_t>>& parts, std::int64_t n) {
  std::vector<int> seen(static_cast<std::size_t>(n), 0);
  for (const auto& p : parts) {
    CHECK(std::is_sorted(p.begin(), p.end()));
    for (auto i : p) ++seen[static_cast<std::size_t>(i)];
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
}


}  // namespace

TEST_CASE("an IID partition deals every class evenly to every client", "[federated]") {
  const Dataset d = labelled({30, 21, 10});
  federated::FederatedOptions o;
  o.clients = 10;
  Rng rng(5);
  const auto parts = federated::federated_partition(d, o, rng, "data");
  REQUIRE(parts.size() == 10);
  check_is_partition(parts, d.size());
  for (const auto& p : parts) {
    const auto counts = class_counts(d, p);
    CHECK(counts[0] == 3);
    CHECK((counts[1] == 2 || counts[1] == 3));
    CHECK(counts[2] == 1);
    CHECK((p.size() == 6 || p.size() == 7));  // 61 samples: floor or ceil of 6.1
  }
  Rng again(5);
  CHECK(federated::federated_partition(d, o, again, "data") == parts);

  o.clients = 11;  // class c2 has 10 samples: some client would lack it
  Rng rng2(5);
  CHECK_THROWS_WITH(federated::federated_partition(d, o, rng2, "input of stage 's'"),
                    Catch::Contains("input of stage 's': an IID split gives every client every class, but class c2 has 10 "
                                    "samples for 11 clients"));
}

TEST_CASE("a Dirichlet partition gives clients equal shares with skewed classes, the skew set by alpha", "[federated]") {
  const Dataset d = labelled({200, 200, 200, 200, 200});
  auto mean_top_share = [&](double alpha, std::uint64_t seed) {
    federated::FederatedOptions o;
    o.clients = 10;
    o.distribution = "dirichlet";
    o.alpha = alpha;
    Rng rng(seed);
    const auto parts = federated::federated_partition(d, o, rng, "data");
    check_is_partition(parts, d.size());
    double share = 0;
    for (const auto& p : parts) {
      CHECK(p.size() == 100);
      const auto counts = class_counts(d, p);
      share += static_cast<double>(*std::max_element(counts.begin(), counts.end())) / static_cast<double>(p.size());
    }
    return share / 10;
  };
  CHECK(mean_top_share(0.1, 1) > 0.7);   // most of a client's data is one class
  CHECK(mean_top_share(1000, 1) < 0.3);  // near IID: about 0.2 each
  CHECK(mean_top_share(0.1, 1) == mean_top_share(0.1, 1));
  CHECK(mean_top_share(0.1, 1) != mean_top_share(0.1, 2));
}

TEST_CASE("federated_split stages of one partition agree on it and output disjoint clients", "[federated]") {
  const StageInfo info = federated::federated_split_stage();
  auto data = std::make_shared<Dataset>(labelled({40, 40, 40}));
  std::set<float> union_of_samples;
  Value first_partition;
  for (int client = 0; client < 4; ++client) {
    // Different stage ids and seeds; the partition comes from the shared seed.
    test::FakeContext ctx(100 + client, "client_" + std::to_string(client));
    ctx.inputs["data"] = data;
    auto stage = info.create(test::params_of(info, "{clients: 4, client: " + std::to_string(client) +
                                                 ", distribution: dirichlet, alpha: 0.5}"));
    stage->run(ctx);
    auto out = std::dynamic_pointer_cast<const Dataset>(ctx.outputs.at("data"));
    REQUIRE(out);
    CHECK(out->size() == 30);
    for (std::int64_t i = 0; i < out->size(); ++i) CHECK(union_of_samples.insert(out->sample(i)[0]).second);
    if (client == 0) first_partition = *ctx.metrics.find("clients_per_class");
    CHECK(*ctx.metrics.find("clients_per_class") == first_partition);
  }
  CHECK(union_of_samples.size() == 120);
}

namespace {
std::shared_ptr<Model> linear_model(float weight, float bias, std::int64_t samples) {
  std::shared_ptr<Model> m = test::model_from_yaml({2}, "[{linear: {name: fc, out: 1}}]");
  for (auto& p : m->named_parameters()) {
    const float v = p.name == "fc.weight" ? weight : bias;
    for (std::int64_t j = 0; j < p.param->value.numel(); ++j) p.param->value.data()[j] = v;
  }
  m->notes().set("train_samples", Value::integer(samples));
  return m;
}
}  // namespace

TEST_CASE("fedavg weights each client by its samples, or equally, and refuses different networks", "[federated]") {
  const StageInfo info = federated::fedavg_stage();
  auto average = [&](const std::string& weighting) {
    test::FakeContext ctx;
    ctx.inputs["a"] = linear_model(1, 10, 100);
    ctx.inputs["b"] = linear_model(5, 20, 300);
    info.create(test::params_of(info, "{weighting: " + weighting + "}"))->run(ctx);
    auto out = std::dynamic_pointer_cast<const Model>(ctx.outputs.at("model"))->clone();
    std::vector<float> values;
    for (auto& p : out->named_parameters()) values.push_back(p.param->value.data()[0]);
    return std::make_pair(values, out->notes().find("train_samples")->as_float());
  };
  const auto [weighted, total] = average("samples");
  CHECK(weighted == std::vector<float>{4.0f, 17.5f});  // 0.25 * 1 + 0.75 * 5, 0.25 * 10 + 0.75 * 20
  CHECK(total == 400);
  CHECK(average("uniform").first == std::vector<float>{3.0f, 15.0f});

  test::FakeContext bad;
  bad.inputs["a"] = linear_model(1, 1, 1);
  auto b = test::model_from_yaml({3}, "[{linear: {name: fc, out: 1}}]");
  b->notes().set("train_samples", Value::integer(1));
  bad.inputs["b"] = std::shared_ptr<const Model>(std::move(b));
  CHECK_THROWS_WITH(info.create(test::params_of(info, "{}"))->run(bad),
                    Catch::Contains("input 'b' is not the same network as 'a': 'fc.weight' has shape [1, 3], not [1, 2]"));
  test::FakeContext untrained;
  untrained.inputs["a"] = std::shared_ptr<const Model>(test::model_from_yaml({2}, "[{linear: {name: fc, out: 1}}]"));
  CHECK_THROWS_WITH(info.create(test::params_of(info, "{}"))->run(untrained),
                    Catch::Contains("input 'a' does not record how many samples it trained on"));
}

TEST_CASE("FedProx's proximal term keeps local training near its starting weights", "[federated]") {
  // Two classes of 2-d points; a linear model trained from fixed weights.
  std::vector<float> x;
  std::vector<std::int32_t> y;
  Rng rng(3);
  for (int i = 0; i < 64; ++i) {
    const int c = i % 2;
    x.push_back(rng.uniform(-1.0f, 1.0f) + (c ? 2.0f : -2.0f));
    x.push_back(rng.uniform(-1.0f, 1.0f));
    y.push_back(c);
  }
  const Dataset data(Tensor({64, 2}, x), y, {"a", "b"});
  auto distance_after = [&](double mu) {
    auto m = test::model_from_yaml({2}, "[{linear: {name: fc, out: 2}}]");
    Rng init(1);
    m->layer(0).initialize(init);
    std::vector<float> start;
    for (auto& p : m->named_parameters()) start.insert(start.end(), p.param->value.data(), p.param->value.data() + p.param->value.numel());
    train::TrainOptions o;
    o.epochs = 20;
    o.batch_size = 8;
    o.schedule.lr = 0.1;
    o.optimizer = train::builtin_optimizer("sgd");
    o.proximal_mu = mu;
    test::FakeContext ctx;
    train::train_model(*m, data, nullptr, o, ctx);
    double d = 0;
    std::size_t k = 0;
    for (auto& p : m->named_parameters())
      for (std::int64_t j = 0; j < p.param->value.numel(); ++j, ++k) d += std::pow(p.param->value.data()[j] - start[k], 2);
    return std::sqrt(d);
  };
  const double free = distance_after(0), held = distance_after(1), tight = distance_after(5);
  CHECK(held < 0.8 * free);
  CHECK(tight < 0.5 * held);
  CHECK(distance_after(1) == held);  // deterministic
}
