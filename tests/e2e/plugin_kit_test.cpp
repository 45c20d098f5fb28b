// What a plugin author relies on: a rebuilt layer plugin reruns every stage whose result its code
// shapes (and only those), `explain` says why, `check-plugin` passes good plugins and names what is
// wrong with bad ones, and `inspect` says where a layer type comes from.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support/cli.hpp"
#include "support/idx_files.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path variants = VARIANT_PLUGIN_DIR;
const fs::path builtin = fs::path(PIPELINE_BUILD_DIR) / PIPELINE_PLUGIN_DIR_RELATIVE_TEST;

// A classifier with the third-party layer type in the middle, and a statistics stage that does
// not depend on it.
struct LayerPluginFixture {
  test::TempDir dir;
  LayerPluginFixture() {
    std::vector<std::uint8_t> labels;
    for (int i = 0; i < 60; ++i) labels.push_back(static_cast<std::uint8_t>(i % 3));
    auto files = test::small_images(labels);
    test::write_bytes(dir / "images.gz", files.images_idx, true);
    test::write_bytes(dir / "labels.gz", files.labels_idx, true);
    test::write_text(dir / "x.yaml", R"(experiment: layer-plugin
seed: 1
stages:
  data:
    plugin: idx_dataset
    params: {images: images.gz, labels: labels.gz, test_fraction: 0.25}
  stats: {plugin: dataset_stats, inputs: {data: data.train}}
  net:
    plugin: model
    params: {input: [1, 4, 3], layers: [flatten, {linear: {out: 8}}, scaled_tanh, {linear: {out: 3}}]}
  fit:
    plugin: train
    inputs: {model: net, data: data.train}
    params: {epochs: 2, batch_size: 8, lr: 0.1}
  score: {plugin: evaluate, inputs: {model: fit, data: data.test}}
)");
  }
  std::vector<std::string> with(const std::string& variant, std::vector<std::string> args) const {
    args.insert(args.begin(), {"--plugin-path", (variants / variant).string()});
    args.insert(args.end(), {(dir / "x.yaml").string(), "--cache-dir", (dir / "cache").string()});
    return args;
  }
  test::CliResult run(const std::string& variant, const std::string& runs) const {
    auto args = with(variant, {"run"});
    args.insert(args.end(), {"--runs-dir", (dir / runs).string()});
    return test::run_cli(args);
  }
  // stage id → whether it came from the cache in the run recorded under `runs`.
  std::map<std::string, bool> from_cache(const std::string& runs) const {
    std::map<std::string, bool> out;
    for (const auto& exp : fs::directory_iterator(dir / runs))
      for (const auto& r : fs::directory_iterator(exp.path())) {
        const json timings = json::parse(test::read_file(r.path() / "timings.json"));
        for (auto it = timings.begin(); it != timings.end(); ++it) out[it.key()] = it.value()["from_cache"];
      }
    return out;
  }
  json metrics(const std::string& runs) const {
    for (const auto& exp : fs::directory_iterator(dir / runs))
      for (const auto& r : fs::directory_iterator(exp.path())) return json::parse(test::read_file(r.path() / "metrics.json"));
    return {};
  }
};

std::string line_of(const std::string& text, const std::string& start) {
  const auto at = text.find(start);
  if (at == std::string::npos) return {};
  return text.substr(at, text.find('\n', at) - at);
}

}  // namespace

TEST_CASE("a rebuilt layer plugin reruns the model stage and everything downstream", "[kit][keys]") {
  LayerPluginFixture f;
  REQUIRE(f.run("a", "runs-a").exit_code == 0);

  // Rebuilt with other code and the same version string.
  const auto explained = test::run_cli(f.with("b", {"explain"}));
  REQUIRE(explained.exit_code == 0);
  INFO(explained.out);
  CHECK(line_of(explained.out, "data (").find("from cache") != std::string::npos);
  CHECK(line_of(explained.out, "stats (").find("from cache") != std::string::npos);
  CHECK(line_of(explained.out, "net (").find("layer type scaled_tanh: plugin binary changed") != std::string::npos);
  CHECK(line_of(explained.out, "fit (").find("input model from net, which runs") != std::string::npos);
  CHECK(line_of(explained.out, "score (").find("input model from fit, which runs") != std::string::npos);

  REQUIRE(f.run("b", "runs-b").exit_code == 0);
  const auto cached = f.from_cache("runs-b");
  CHECK(cached.at("data"));
  CHECK(cached.at("stats"));
  CHECK_FALSE(cached.at("net"));
  CHECK_FALSE(cached.at("fit"));
  CHECK_FALSE(cached.at("score"));
  // The two builds really compute different things, so a stale score would have been wrong.
  CHECK(f.metrics("runs-a")["stages"]["score"]["metrics"]["loss"] != f.metrics("runs-b")["stages"]["score"]["metrics"]["loss"]);

  // Bumped version as well: explain names the version change.
  const auto bumped = test::run_cli(f.with("c", {"explain"}));
  INFO(bumped.out);
  CHECK(line_of(bumped.out, "net (").find("layer type scaled_tanh: plugin version 1.0 -> 1.1") != std::string::npos);

  // Back to the first build: its entries are still there, nothing runs.
  REQUIRE(f.run("a", "runs-a2").exit_code == 0);
  for (const auto& [stage, hit] : f.from_cache("runs-a2")) {
    INFO(stage);
    CHECK(hit);
  }
  CHECK(f.metrics("runs-a2") == f.metrics("runs-a"));
}

TEST_CASE("a stage that looks up an extension it does not declare is not cached", "[kit][keys]") {
  test::TempDir dir;
  test::write_text(dir / "x.yaml", "experiment: undeclared\nseed: 0\nstages:\n  look: {plugin: lookup_layer}\n");
  const std::vector<std::string> args = {"--plugin-path", TESTKIT_PLUGIN, "run", (dir / "x.yaml").string(),
                                         "--cache-dir", (dir / "cache").string(), "--runs-dir", (dir / "runs").string()};
  for (int i = 0; i < 2; ++i) {
    const auto r = test::run_cli(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("not cached: it used layer type relu from another plugin, which stage type 'lookup_layer' does not "
                     "declare (StageInfo::extensions)") != std::string::npos);
  }
}

TEST_CASE("a plugin's own artifact type with a registered codec is cached", "[kit][codec]") {
  test::TempDir dir;
  test::write_text(dir / "x.yaml", "experiment: tally\nseed: 0\nstages:\n  make: {plugin: make_tally, params: {count: 7}}\n"
                                   "  read: {plugin: read_tally, inputs: {tally: make}}\n");
  auto run = [&](const std::string& runs) {
    return test::run_cli({"--plugin-path", TESTKIT_PLUGIN, "run", (dir / "x.yaml").string(), "--cache-dir",
                          (dir / "cache").string(), "--runs-dir", (dir / runs).string()});
  };
  const auto first = run("r1");
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(first.err.find("[make] counting to 7") != std::string::npos);
  // The rerun decodes the tally from the cache; read_tally (also cached) recorded its count.
  const auto second = run("r2");
  INFO(second.err);
  CHECK(second.err.find("counting to") == std::string::npos);
  CHECK(second.err.find("[make] cached") != std::string::npos);
  for (const char* runs : {"r1", "r2"})
    for (const auto& exp : fs::directory_iterator(dir / runs))
      for (const auto& r : fs::directory_iterator(exp.path()))
        CHECK(json::parse(test::read_file(r.path() / "metrics.json"))["stages"]["read"]["metrics"]["count"] == 7);
  const auto inspect = test::run_cli({"--plugin-path", TESTKIT_PLUGIN, "inspect", "tally"});
  CHECK(inspect.out.find("codec for tally - the count as decimal text") != std::string::npos);
}

TEST_CASE("check-plugin passes every built-in plugin", "[kit][check-plugin]") {
  for (const char* name : {"data", "layers", "train", "transfer", "federated", "active"}) {
    const auto r = test::run_cli({"check-plugin", (builtin / ("pipeline_" + std::string(name) + ".so")).string()});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(" passed, 0 failed") != std::string::npos);
    CHECK(r.out.find("FAIL") == std::string::npos);
  }
}

TEST_CASE("check-plugin fails a layer with a wrong backward, naming it", "[kit][check-plugin]") {
  const auto r = test::run_cli({"check-plugin", std::string(BROKEN_PLUGIN_DIR) + "/wrong_backward/wrong_backward.so"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("FAIL layer wrong_backward") != std::string::npos);
  CHECK(r.out.find("layer wrong_backward: conventional ({} on [3, 6, 6]): backward: input gradient differs from finite "
                   "differences: max rel err 1 at index") != std::string::npos);
  CHECK(r.out.find("0 passed, 1 failed") != std::string::npos);
}

TEST_CASE("check-plugin fails undocumented schemas, one line per problem naming the type", "[kit][check-plugin]") {
  const auto r = test::run_cli({"check-plugin", std::string(BROKEN_PLUGIN_DIR) + "/undocumented/undocumented.so"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("stage undocumented_stage: schema: the type has no doc string\n") != std::string::npos);
  CHECK(r.out.find("stage undocumented_stage: schema: parameter 'count' has no doc string\n") != std::string::npos);
  CHECK(r.out.find("layer undocumented_layer: schema: parameter 'gain' has no doc string\n") != std::string::npos);
  CHECK(r.out.find("0 passed, 2 failed") != std::string::npos);
  // Filters: only the layer.
  const auto layer_only = test::run_cli({"check-plugin", std::string(BROKEN_PLUGIN_DIR) + "/undocumented/undocumented.so",
                                         "--layer", "undocumented_layer"});
  CHECK(layer_only.out.find("stage undocumented_stage") == std::string::npos);
  CHECK(layer_only.out.find("0 passed, 1 failed") != std::string::npos);
}

TEST_CASE("a schema that cannot work is refused by the loader for every command", "[kit][check-plugin]") {
  const std::string plugin = std::string(BROKEN_PLUGIN_DIR) + "/reserved_param/reserved_param.so";
  const auto check = test::run_cli({"check-plugin", plugin});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 3);
  CHECK(check.err.find("layer type 'reserved_param': parameter 'name' is reserved: the model builder takes it") !=
        std::string::npos);
  CHECK(check.err.find("layer type 'reserved_param': parameter 'alpha': its default does not pass its own checks") !=
        std::string::npos);
  const auto inspect = test::run_cli({"--plugin-path", plugin, "inspect", "relu"});
  CHECK(inspect.exit_code == 3);
}

TEST_CASE("check-plugin on a file that is not a plugin, or one whose register throws, exits 3", "[kit][check-plugin]") {
  const auto garbage = test::run_cli({"check-plugin", std::string(BROKEN_PLUGIN_DIR) + "/not_a_library/not_a_library.so"});
  CHECK(garbage.exit_code == 3);
  CHECK(garbage.err.find("not a loadable library") != std::string::npos);
  const auto throws =
      test::run_cli({"check-plugin", std::string(BROKEN_PLUGIN_DIR) + "/throws_on_register/throws_on_register.so"});
  CHECK(throws.exit_code == 3);
  CHECK(throws.err.find("registering plugin 'throws_on_register' failed: cannot find my model zoo") != std::string::npos);
  const auto missing = test::run_cli({"check-plugin", "/no/such/plugin.so"});
  CHECK(missing.exit_code == 2);
}

TEST_CASE("inspect names the plugin and file of a layer type and an optimizer", "[kit][inspect]") {
  const auto layer = test::run_cli({"--plugin-path", (variants / "a").string(), "inspect", "scaled_tanh"});
  INFO(layer.out << layer.err);
  CHECK(layer.exit_code == 0);
  CHECK(layer.out.find("Plugin:   variant_layers 1.0\n") != std::string::npos);
  CHECK(layer.out.find("File:     " + (variants / "a" / "pipeline_variant_layers.so").string()) != std::string::npos);
  const auto relu = test::run_cli({"inspect", "relu"});
  CHECK(relu.out.find("Plugin:   layers ") != std::string::npos);
  const auto adam = test::run_cli({"inspect", "adamw"});
  CHECK(adam.exit_code == 0);
  CHECK(adam.out.find("Plugin:   train ") != std::string::npos);
  CHECK(adam.out.find("weight_decay") != std::string::npos);
  const auto train = test::run_cli({"inspect", "train"});
  CHECK(train.out.find("choices: adam, adamw, sgd (registered optimizers)") != std::string::npos);
}
