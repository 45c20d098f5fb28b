// The remedies for imbalanced training data, end to end on a small set of 40, 10 and 5 images of
// three classes: class weights derived from the counts, class-balanced and square-root sampling,
// many/medium/few-shot accuracy, post-hoc logit adjustment, and the located errors for bad values.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support/cli.hpp"
#include "support/idx_files.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Imbalanced {
  test::TempDir dir;
  Imbalanced() {
    std::vector<std::uint8_t> labels;
    for (int i = 0; i < 55; ++i) labels.push_back(i < 40 ? 0 : i < 50 ? 1 : 2);
    const auto files = test::small_images(labels);
    test::write_bytes(dir / "images.gz", files.images_idx, true);
    test::write_bytes(dir / "labels.gz", files.labels_idx, true);
  }
  // Runs stages (YAML lines under `stages:`, after data and net) and returns metrics.json's stages.
  json run(const std::string& stages, const std::vector<std::string>& extra = {}) const {
    std::string yaml = "experiment: imbalanced\nseed: 4\nstages:\n" + test::small_data_and_model_yaml() + stages;
    yaml.replace(yaml.find("test_fraction: 0.25"), 19, "test_fraction: 0");
    test::write_text(dir / "i.yaml", yaml);
    std::vector<std::string> args = {"run", (dir / "i.yaml").string(), "--runs-dir", (dir / "runs").string(), "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = test::run_cli(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const std::string record = r.out.substr(r.out.rfind("run record: ") + 12);
    return json::parse(test::read_file(fs::path(record.substr(0, record.size() - 1)) / "metrics.json"))["stages"];
  }
};

const std::string fit = "  fit:\n    plugin: train\n    inputs: {model: net, data: data.train}\n    params: {epochs: 3, batch_size: 8, lr: 0.1, ";

}  // namespace

TEST_CASE("class weights from the training counts: balanced is N / (C n_c), effective_number (1 - beta) / (1 - beta^n_c) scaled to sum to C", "[imbalance]") {
  Imbalanced d;
  const auto balanced = d.run(fit + "class_weights: balanced}\n")["fit"]["metrics"]["class_weights"];
  REQUIRE(balanced.size() == 3);
  CHECK(balanced[0].get<double>() == Approx(55.0 / (3 * 40)));
  CHECK(balanced[1].get<double>() == Approx(55.0 / (3 * 10)));
  CHECK(balanced[2].get<double>() == Approx(55.0 / (3 * 5)));
  const auto effective = d.run(fit + "class_weights: effective_number, effective_number_beta: 0.9}\n")["fit"]["metrics"]["class_weights"];
  double w[3], sum = 0;
  int i = 0;
  for (int n : {40, 10, 5}) sum += (w[i++] = (1 - 0.9) / (1 - std::pow(0.9, n)));
  for (int k = 0; k < 3; ++k) CHECK(effective[k].get<double>() == Approx(w[k] * 3 / sum).epsilon(1e-5));
  CHECK(effective[2].get<double>() > effective[1].get<double>());
}

TEST_CASE("class-balanced sampling draws the classes equally often, square-root sampling in proportion to sqrt(n_c)", "[imbalance]") {
  Imbalanced d;
  auto drawn = [&](const std::string& sampler) {
    const auto epochs = d.run(fit + "sampler: " + sampler + "}\n")["fit"]["metrics"]["epochs"];
    std::vector<double> total(3, 0);
    for (const auto& e : epochs) {
      REQUIRE(e["samples_per_class"].size() == 3);
      int all = 0;
      for (int k = 0; k < 3; ++k) {
        total[k] += e["samples_per_class"][k].get<double>();
        all += e["samples_per_class"][k].get<int>();
      }
      CHECK(all == 55);  // an epoch draws as many samples as the data holds
    }
    return total;  // over 3 epochs: 165 draws
  };
  const auto balanced = drawn("class_balanced");
  for (double n : balanced) CHECK(std::abs(n - 55) < 20);  // 55 each expected; binomial sd about 6
  const auto sqrt = drawn("sqrt");
  const double norm = std::sqrt(40.0) + std::sqrt(10.0) + std::sqrt(5.0);
  int k = 0;
  for (int n : {40, 10, 5}) {
    const double expected = 165 * std::sqrt(static_cast<double>(n)) / norm;  // 88.9, 44.5, 31.5
    CHECK(std::abs(sqrt[k++] - expected) < 20);
  }
  // The draws are seeded: the same run draws the same samples.
  CHECK(drawn("sqrt") == sqrt);
}

TEST_CASE("evaluate with the training set: accuracy of the many-, medium- and few-shot classes; post-hoc logit adjustment", "[imbalance]") {
  Imbalanced d;
  const auto stages = d.run(fit + "}\n"
                            "  score: {plugin: evaluate, inputs: {model: fit, data: data.train, train: data.train}, params: {many_shot: 20, few_shot: 8}}\n"
                            "  adjusted: {plugin: evaluate, inputs: {model: fit, data: data.train, train: data.train}, params: {logit_adjustment: 100}}\n");
  const auto& score = stages["score"]["metrics"];
  // 40 > 20: many; 10: medium; 5 < 8: few. Each group's accuracy is its classes' mean recall.
  CHECK(score["shot_groups"]["many"]["classes"] == json::array({"0"}));
  CHECK(score["shot_groups"]["medium"]["classes"] == json::array({"1"}));
  CHECK(score["shot_groups"]["few"]["classes"] == json::array({"2"}));
  CHECK(score["many_shot_accuracy"].get<double>() == Approx(score["per_class"]["0"]["recall"].get<double>()));
  CHECK(score["few_shot_accuracy"].get<double>() == Approx(score["per_class"]["2"]["recall"].get<double>()));
  // argmax z - 100 log(prior): the rarest class wins every sample.
  const auto& adjusted = stages["adjusted"]["metrics"];
  CHECK(adjusted["per_class"]["2"]["recall"].get<double>() == 1.0);
  CHECK(adjusted["per_class"]["0"]["recall"].get<double>() == 0.0);
}

TEST_CASE("logit adjustment shapes training only: validation scores the plain logits, as evaluate does", "[imbalance]") {
  Imbalanced d;
  const auto stages = d.run("  fit:\n    plugin: train\n    inputs: {model: net, data: data.train, validation: data.train}\n"
                            "    params: {epochs: 2, batch_size: 8, lr: 0.1, logit_adjustment: 1}\n"
                            "  score: {plugin: evaluate, inputs: {model: fit, data: data.train}}\n");
  const auto& last = stages["fit"]["metrics"]["epochs"].back();
  CHECK(last["validation_accuracy"].get<double>() == Approx(stages["score"]["metrics"]["accuracy"].get<double>()));
}

TEST_CASE("bad values for the imbalance remedies are located errors before anything runs", "[imbalance][errors]") {
  Imbalanced d;
  test::write_text(d.dir / "i.yaml", "experiment: imbalanced\nstages:\n" + test::small_data_and_model_yaml() + fit +
                                         "}\n  score: {plugin: evaluate, inputs: {model: fit, data: data.train}}\n");
  const std::string file = (d.dir / "i.yaml").string();
  for (const auto& [set, message] : std::vector<std::pair<std::string, std::string>>{
           {"fit.focal_gamma=-1", "parameter 'focal_gamma'"},
           {"fit.class_weights=bogus", "parameter 'class_weights': expected a list of weights, balanced or effective_number, got 'bogus'"},
           {"fit.class_weights=[1, -2, 1]", "parameter 'class_weights': each weight must be a number in [0, 1e6], got -2"},
           {"fit.sampler=weighted", "parameter 'sampler'"},
           {"score.few_shot=500", "few_shot (500) must not exceed many_shot + 1 (101)"},
       }) {
    INFO(set);
    const auto r = test::run_cli({"validate", file, "--set", set});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(": error: ") != std::string::npos);
    CHECK(r.err.find(message) != std::string::npos);
  }
  const auto both = test::run_cli({"validate", file, "--set", "fit.focal_gamma=2", "--set", "fit.label_smoothing=0.1"});
  CHECK(both.exit_code == 2);
  CHECK(both.err.find("label_smoothing applies to the cross-entropy, not to the focal loss") != std::string::npos);
}
