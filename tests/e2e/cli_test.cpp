// The `pipeline` command as a user meets it.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>
#include <sstream>

#include "pipeline/version.hpp"
#include "support/cli.hpp"
#include "support/idx_files.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {
// A small labelled image set on disk and an experiment over it.
struct SmallExperiment {
  test::TempDir dir;
  SmallExperiment(bool gzip = true) {
    std::vector<std::uint8_t> labels;
    for (int i = 0; i < 40; ++i) labels.push_back(static_cast<std::uint8_t>(i % 4));
    auto files = test::small_images(labels);
    test::write_bytes(dir / "images.gz", files.images_idx, gzip);
    test::write_bytes(dir / "labels.gz", files.labels_idx, gzip);
    test::write_text(dir / "e.yaml", R"(experiment: small
seed: 1
stages:
  data:
    plugin: idx_dataset
    params: {images: images.gz, labels: labels.gz, classes: [3, 1], test_fraction: 0.2}
  stats: {plugin: dataset_stats, inputs: {data: data.train}}
)");
  }
  fs::path file() const { return dir / "e.yaml"; }
};

nlohmann::json only_metrics_json(const fs::path& runs);

std::string only_metrics(const fs::path& runs) {
  for (const auto& exp : fs::directory_iterator(runs))
    for (const auto& run : fs::directory_iterator(exp.path())) return test::read_file(run.path() / "metrics.json");
  return {};
}
nlohmann::json only_metrics_json(const fs::path& runs) { return nlohmann::json::parse(only_metrics(runs)); }
}  // namespace

TEST_CASE("version and help", "[cli]") {
  auto v = test::run_cli({"--version"});
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("pipeline " PIPELINE_VERSION_STRING) == 0);
  CHECK(v.out.find("plugin API") != std::string::npos);
  for (const char* command : {"run", "validate", "graph", "plugins", "inspect"}) {
    auto h = test::run_cli({command, "--help"});
    CHECK(h.exit_code == 0);
    CHECK(h.out.find(std::string("usage: pipeline ") + command) == 0);
  }
  auto h = test::run_cli({"--help"});
  CHECK(h.exit_code == 0);
  CHECK(h.out.find("Exit codes") != std::string::npos);
}

TEST_CASE("usage errors exit 2 with a hint", "[cli]") {
  auto r = test::run_cli({"valdate", "x.yaml"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown command 'valdate'; did you mean 'validate'?") != std::string::npos);
  CHECK(test::run_cli({}).exit_code == 2);
  CHECK(test::run_cli({"run"}).exit_code == 2);
  CHECK(test::run_cli({"run", "a.yaml", "--frobnicate"}).exit_code == 2);
  auto i = test::run_cli({"inspect", "idx_datset"});
  CHECK(i.exit_code == 2);
  CHECK(i.err.find("did you mean 'idx_dataset'?") != std::string::npos);
  auto s = test::run_cli({"validate", "a.yaml", "--set", "nodot"});
  CHECK(s.exit_code == 2);
  CHECK(s.err.find("--set expects STAGE.PARAM=VALUE") != std::string::npos);
}

TEST_CASE("plugins and inspect describe what is loaded", "[cli]") {
  auto p = test::run_cli({"plugins"});
  CHECK(p.exit_code == 0);
  CHECK(p.out.find("active " PIPELINE_VERSION_STRING) == 0);  // sorted by name
  CHECK(p.out.find("\ndata " PIPELINE_VERSION_STRING) != std::string::npos);
  CHECK(p.out.find("stages: concat csv_dataset dataset_stats idx_dataset image_folder long_tail save_image_folder split subset") != std::string::npos);
  auto i = test::run_cli({"inspect", "idx_dataset"});
  CHECK(i.exit_code == 0);
  for (const char* param : {"images", "labels", "classes", "per_class", "test_fraction"})
    CHECK(i.out.find(std::string("\n  ") + param + " ") != std::string::npos);
  CHECK(i.out.find("range [0, 1]") != std::string::npos);
}

TEST_CASE("validate, graph and run on a small IDX data set", "[cli]") {
  SmallExperiment e;
  auto v = test::run_cli({"validate", e.file().string()});
  CHECK(v.exit_code == 0);
  CHECK(v.out == e.file().string() + ": ok: experiment 'small', 2 stages\n");

  auto g = test::run_cli({"graph", e.file().string()});
  CHECK(g.exit_code == 0);
  CHECK(g.out.find("digraph \"small\"") == 0);
  CHECK(g.out.find("\"data\" -> \"stats\" [label=\"train -> data\"]") != std::string::npos);

  auto r = test::run_cli({"run", e.file().string(), "--runs-dir", (e.dir / "runs").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("[data] start (idx_dataset)") != std::string::npos);
  CHECK(r.err.find("[stats] done in ") != std::string::npos);
  const std::string metrics = only_metrics(e.dir / "runs");
  // 20 samples of classes 3 and 1; 20% of each class held out: 16 train.
  CHECK(metrics.find("\"train_samples\": 16") != std::string::npos);
  CHECK(metrics.find("\"test_samples\": 4") != std::string::npos);
  const auto stats = only_metrics_json(e.dir / "runs")["stages"]["stats"]["metrics"];
  CHECK(stats["per_class"] == nlohmann::json::array({8, 8}));
  CHECK(stats["samples"] == 16);
}

TEST_CASE("dataset_stats computes the pixel mean and standard deviation", "[cli]") {
  SmallExperiment e;
  auto r = test::run_cli({"run", e.file().string(), "--runs-dir", (e.dir / "runs").string(), "--set",
                          "data.test_fraction=0"});
  REQUIRE(r.exit_code == 0);
  // Classes 3 and 1 are the odd images; every pixel of image i is (i * 7) % 256.
  double sum = 0, sq = 0;
  for (int i = 1; i < 40; i += 2) {
    const double x = ((i * 7) % 256) / 255.0;
    sum += x;
    sq += x * x;
  }
  const double mean = sum / 20, std = std::sqrt(sq / 20 - mean * mean);
  const auto stats = only_metrics_json(e.dir / "runs")["stages"]["stats"]["metrics"];
  CHECK(stats["samples"] == 20);
  CHECK(stats["pixel_mean"].get<double>() == Approx(mean).epsilon(1e-6));
  CHECK(stats["pixel_std"].get<double>() == Approx(std).epsilon(1e-6));
}

TEST_CASE("set overrides a parameter for the run", "[cli]") {
  SmallExperiment e;
  auto r = test::run_cli({"run", e.file().string(), "--runs-dir", (e.dir / "runs").string(), "--set",
                          "data.per_class=5", "--set", "data.test_fraction=0"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(only_metrics(e.dir / "runs").find("\"train_samples\": 10") != std::string::npos);
  auto bad = test::run_cli({"run", e.file().string(), "--set", "data.per_class=-1"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "--set data.per_class: error: stage 'data' (idx_dataset): parameter 'per_class' must be >= 0, got -1\n");
}

TEST_CASE("the same experiment and seed give identical metrics", "[cli]") {
  SmallExperiment e;
  test::run_cli({"run", e.file().string(), "--runs-dir", (e.dir / "a").string(), "--set", "data.per_class=6"});
  test::run_cli({"run", e.file().string(), "--runs-dir", (e.dir / "b").string(), "--set", "data.per_class=6"});
  const auto a = only_metrics(e.dir / "a");
  CHECK_FALSE(a.empty());
  CHECK(a == only_metrics(e.dir / "b"));
}

TEST_CASE("an invalid experiment runs nothing and exits 2", "[cli]") {
  SmallExperiment e;
  test::write_text(e.dir / "bad.yaml", "stages:\n  data: {plugin: idx_dataset, params: {images: nope.gz, labels: labels.gz}}\n");
  auto r = test::run_cli({"run", (e.dir / "bad.yaml").string(), "--runs-dir", (e.dir / "runs").string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == (e.dir / "bad.yaml").string() + ":2:48: error: stage 'data' (idx_dataset): parameter 'images' "
                 "names a file that does not exist: nope.gz (relative to the experiment file's directory)\n");
  CHECK_FALSE(fs::exists(e.dir / "runs"));
}

TEST_CASE("a corrupt data file fails its stage with a data_format error naming the file", "[cli]") {
  SmallExperiment e;
  // Labels for 39 images where there are 40.
  std::vector<std::uint8_t> labels(39, 1);
  test::write_bytes(e.dir / "labels.gz", test::idx_bytes({39}, labels), true);
  auto r = test::run_cli({"run", e.file().string(), "--runs-dir", (e.dir / "runs").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("error: stage 'data' (idx_dataset) failed in ") != std::string::npos);
  CHECK(r.err.find((e.dir / "labels.gz").string() + ": 39 labels for 40 images in " +
                   (e.dir / "images.gz").string() + " [data_format]") != std::string::npos);
  CHECK(r.err.find("[stats] skipped") != std::string::npos);
}

TEST_CASE("the YAML reference shows every stage type and optimizer as inspect does", "[cli][docs]") {
  // Each ``` block that starts "NAME - " is `pipeline inspect NAME` with the plugin directory
  // written as an install under /opt/pipeline; a stage type or optimizer missing from the reference
  // is a failure too, so the reference cannot drift from the schemas.
  const std::string text = test::read_file(test::source_dir() / "docs" / "yaml-reference.md");
  const std::string builtin = (std::filesystem::path(PIPELINE_BUILD_DIR) / PIPELINE_PLUGIN_DIR_RELATIVE_TEST).string();
  // The fenced blocks with no language tag, line by line (fences of other blocks toggle too).
  std::vector<std::string> blocks;
  {
    std::istringstream lines(text);
    bool inside = false, plain = false;
    std::string block;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("```", 0) == 0) {
        if (inside && plain) blocks.push_back(block);
        plain = !inside && line == "```";
        inside = !inside;
        block.clear();
      } else if (inside) {
        block += line + "\n";
      }
    }
  }
  std::set<std::string> documented;
  for (const auto& block : blocks) {
    const auto dash = block.find(" - ");
    const std::string name = block.substr(0, dash);
    if (dash == std::string::npos || name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
      continue;
    auto r = test::run_cli({"inspect", name});
    if (r.exit_code != 0) continue;  // another kind of block that happens to look alike
    for (std::size_t p = r.out.find(builtin); p != std::string::npos; p = r.out.find(builtin, p))
      r.out.replace(p, builtin.size(), "/opt/pipeline/lib/pipeline/plugins");
    INFO("inspect " << name);
    CHECK(block == r.out);
    documented.insert(name);
  }
  // Every stage type and optimizer the built-in plugins register, as `pipeline plugins` lists them.
  const auto listed = test::run_cli({"plugins"});
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string head, name;
    words >> head;
    if (head != "stages:" && head != "optimizers:") continue;
    while (words >> name) {
      INFO(name << " is not in docs/yaml-reference.md");
      CHECK(documented.count(name));
    }
  }
}

TEST_CASE("a model's architecture can come from a YAML file of layers, which its key covers", "[cli][architecture]") {
  test::TempDir dir;
  test::write_text(dir / "nets" / "tiny.yaml", "# a lab's network\nlayers: [flatten, {linear: {name: fc, out: 3}}]\n");
  test::write_text(dir / "x.yaml", "experiment: arch-file\nseed: 0\nstages:\n"
                                   "  net: {plugin: model, params: {input: [1, 4, 3], architecture: nets/tiny.yaml}}\n");
  const std::vector<std::string> cache = {"--cache-dir", (dir / "cache").string()};
  auto run = [&](const std::string& cmd) {
    std::vector<std::string> args = {cmd, (dir / "x.yaml").string()};
    args.insert(args.end(), cache.begin(), cache.end());
    if (cmd == "run") args.insert(args.end(), {"--runs-dir", (dir / "runs").string()});
    return test::run_cli(args);
  };
  const auto first = run("run");
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(first.err.find("fc                   linear       [3]") != std::string::npos);
  CHECK(run("explain").out.find("net (model, key") != std::string::npos);
  CHECK(run("explain").out.find("from cache") != std::string::npos);
  // Editing the file reruns the stage.
  test::write_text(dir / "nets" / "tiny.yaml", "layers: [flatten, {linear: {name: fc, out: 4}}]\n");
  CHECK(run("explain").out.find("runs (input file " + (dir / "nets" / "tiny.yaml").string() + " changed)") != std::string::npos);
  // A file without a layers: list, and one that does not exist, are located errors.
  test::write_text(dir / "nets" / "tiny.yaml", "blocks: []\n");
  const auto bad = run("validate");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("an architecture file needs a 'layers:' list") != std::string::npos);
  test::write_text(dir / "x.yaml", "experiment: arch-file\nseed: 0\nstages:\n"
                                   "  net: {plugin: model, params: {input: [1, 4, 3], architecture: nets/none.yaml}}\n"
                                   "  res: {plugin: model, params: {input: [3, 32, 32], architecture: resnet81}}\n");
  const auto missing = run("validate");
  CHECK(missing.err.find("x.yaml:4:65: error: stage 'net' (model): architecture file " + (dir / "nets" / "none.yaml").string() +
                         " does not exist") != std::string::npos);
  CHECK(missing.err.find("unknown architecture 'resnet81'; did you mean 'resnet18'?") != std::string::npos);
}

TEST_CASE("regression: an out-of-range --seed or --trial is a usage error, not an abort", "[cli][hardening]") {
  const auto file = (test::source_dir() / "pipelines" / "fashion_cnn.yaml").string();
  for (const char* option : {"--seed", "--trial"}) {
    const auto r = test::run_cli({"validate", file, option, "99999999999999999999"});
    INFO(option << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("below 2^64, got '99999999999999999999'") != std::string::npos);
  }
}

TEST_CASE("regression: cache gc --older-than with a bad number deletes nothing", "[cli][hardening]") {
  test::TempDir dir;
  // One finished entry in the cache.
  test::write_text(dir / "x.yaml", "experiment: gc\nseed: 0\nstages:\n"
                                   "  net: {plugin: model, params: {input: [4], layers: [{linear: {out: 2}}]}}\n");
  REQUIRE(test::run_cli({"run", (dir / "x.yaml").string(), "--cache-dir", (dir / "cache").string(), "--runs-dir",
                         (dir / "runs").string()}).exit_code == 0);
  for (const char* days : {"abc", "-1", "1w", ""}) {
    const auto r = test::run_cli({"cache", "gc", "--older-than", days, "--cache-dir", (dir / "cache").string()});
    INFO(days);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--older-than expects a non-negative number of days") != std::string::npos);
  }
  const auto ls = test::run_cli({"cache", "ls", "--cache-dir", (dir / "cache").string()});
  CHECK(ls.out.find("1 entries") != std::string::npos);
}

namespace {
test::CliResult validate_text(const test::TempDir& dir, const std::string& name, const std::string& text,
                              std::vector<std::string> extra = {}) {
  test::write_text(dir / name, text);
  std::vector<std::string> args = {"validate", (dir / name).string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return test::run_cli(args);
}
}  // namespace

TEST_CASE("regression: self-referencing and exponential YAML aliases are located errors", "[cli][hardening]") {
  test::TempDir dir;
  const auto self = validate_text(dir, "self.yaml", "experiment: a\nstages:\n  x: &a [*a]\n");
  CHECK(self.exit_code == 2);
  CHECK(self.err.find("nesting deeper than 64 levels (an alias that refers to itself?)") != std::string::npos);
  // "Billion laughs": each level doubles (here x10) the one before.
  std::string laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i)
    laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + [&] {
      std::string refs;
      for (int k = 0; k < 10; ++k) refs += (k ? ", *a" : "*a") + std::to_string(i - 1);
      return refs;
    }() + "]\n";
  const auto bomb = validate_text(dir, "laughs.yaml", laughs);
  CHECK(bomb.exit_code == 2);
  CHECK(bomb.err.find("expands to more than 250000 nodes") != std::string::npos);
}

TEST_CASE("regression: huge scalars and names are errors, not stack overflows", "[cli][hardening]") {
  test::TempDir dir;
  const auto digits = validate_text(dir, "d.yaml", "experiment: a\nseed: " + std::string(50000, '7') + "\nstages: {}\n");
  CHECK(digits.exit_code == 2);
  const auto name = validate_text(dir, "n.yaml", "experiment: " + std::string(200000, 'x') + "\nstages: {}\n");
  CHECK(name.exit_code == 2);
  CHECK(name.err.find("'experiment' must be a name of letters, digits") != std::string::npos);
  CHECK(name.err.size() < 2000);  // the message quotes the start of the name, not all of it
}

TEST_CASE("regression: a sweep of a million trials is refused before it is built", "[cli][hardening]") {
  test::TempDir dir;
  std::string grid = "experiment: big\nstages:\n  m: {plugin: model, params: {input: [4], layers: [{linear: {out: 2}}]}}\nsweep:\n  grid:\n";
  for (int k = 0; k < 6; ++k) grid += "    m.input" + std::string(k, '_') + ": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n";
  const auto r = validate_text(dir, "big.yaml", grid);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("sweep expands to 1000000 trials; the limit is 100000 (--max-trials)") != std::string::npos);
}

TEST_CASE("regression: a file named ...yaml without experiment: keeps its record inside the runs dir", "[cli][hardening]") {
  test::TempDir dir;
  test::write_text(dir / "...yaml", "seed: 0\nstages:\n  m: {plugin: model, params: {input: [4], layers: [{linear: {out: 2}}]}}\n");
  const auto r = test::run_cli({"run", (dir / "...yaml").string(), "--runs-dir", (dir / "runs").string(), "--no-cache"});
  CHECK(r.exit_code == 0);
  CHECK(std::filesystem::exists(dir / "runs" / "experiment"));
}

namespace {
// Two arms trained on a small image set and compared: a run with a result table.
struct ComparedExperiment {
  test::TempDir dir;
  ComparedExperiment() {
    test::write_small_image_files(dir.path(), 60);
    test::write_text(dir / "c.yaml", R"(experiment: compared
seed: 3
stages:
)" + test::small_data_and_model_yaml() + R"(  fast: {plugin: train, inputs: {model: net, data: data.train}, params: {epochs: 3, batch_size: 8, lr: 0.1, schedule: step, gamma: 0.5}}
  slow: {plugin: train, inputs: {model: net, data: data.train}, params: {epochs: 3, batch_size: 8, lr: 0.01}}
  score_fast: {plugin: evaluate, inputs: {model: fast, data: data.test}}
  score_slow: {plugin: evaluate, inputs: {model: slow, data: data.test}}
  comparison: {plugin: compare, inputs: {fast: score_fast, slow: score_slow}}
)");
  }
  test::CliResult run(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args = {"run", (dir / "c.yaml").string(), "--runs-dir", (dir / "runs").string(), "--cache-dir",
                                     (dir / "cache").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_cli(args);
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}
}  // namespace

TEST_CASE("results go to stdout, how the run went to stderr; --quiet keeps only the results", "[cli][streams]") {
  ComparedExperiment e;
  const auto r = e.run();
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  // stdout: the comparison table under its stage id, then where the record is; nothing else.
  const auto out = lines_of(r.out);
  REQUIRE(out.size() == 5);
  CHECK(out[0] == "comparison:");
  CHECK(out[1].find("arm") == 0);
  CHECK(out[1].find("accuracy") != std::string::npos);
  CHECK(out[2].find("fast ") == 0);
  CHECK(out[3].find("slow ") == 0);
  CHECK(out[4].find("run record: " + (e.dir / "runs" / "compared").string() + "/") == 0);
  const fs::path record = out[4].substr(std::string("run record: ").size());
  CHECK(test::read_file(record / "results.txt") == r.out.substr(0, r.out.size() - out[4].size() - 1));
  // stderr: stages starting and finishing, their logs, a progress line with an ETA; not the table.
  CHECK(r.err.find("[fast] start (train)") != std::string::npos);
  CHECK(r.err.find(" ETA ") != std::string::npos);
  CHECK(r.err.find("train time") == std::string::npos);
  CHECK(r.err.find("run record") == std::string::npos);
  // The learning rate of each epoch is in the history: step decay halves it every epoch.
  const auto metrics = nlohmann::json::parse(test::read_file(record / "metrics.json"));
  const auto& epochs = metrics["stages"]["fast"]["metrics"]["epochs"];
  REQUIRE(epochs.size() == 3);
  CHECK(epochs[0]["lr"].get<double>() == Approx(0.1));
  CHECK(epochs[1]["lr"].get<double>() == Approx(0.05));
  CHECK(epochs[2]["lr"].get<double>() == Approx(0.025));
  CHECK(epochs[2].contains("loss"));
  CHECK(epochs[2].contains("accuracy"));

  // --quiet, every stage from the cache: the same table (the compare stage's result is cached
  // with it), nothing at all on stderr.
  const auto q = e.run({"--quiet"});
  INFO(q.out << q.err);
  REQUIRE(q.exit_code == 0);
  CHECK(q.err.empty());
  const auto quiet_out = lines_of(q.out);
  REQUIRE(quiet_out.size() == 5);
  for (int i = 0; i < 4; ++i) CHECK(quiet_out[i] == out[i]);
  CHECK(quiet_out[4].find("run record: ") == 0);
}

TEST_CASE("without a result table the headline metrics are the results; --quiet still shows errors", "[cli][streams]") {
  ComparedExperiment e;
  test::write_text(e.dir / "c.yaml", test::read_file(e.dir / "c.yaml").substr(0, test::read_file(e.dir / "c.yaml").find("  comparison:")));
  const auto r = e.run({"--quiet"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  const auto out = lines_of(r.out);
  REQUIRE(out.size() == 5);
  CHECK(out[0].find("score_fast.accuracy ") == 0);
  CHECK(out[1].find("score_fast.macro_f1 ") == 0);
  CHECK(out[2].find("score_slow.accuracy ") == 0);
  // A failing stage: its error on stderr, even when quiet, and the run says it failed.
  test::write_text(e.dir / "bad.gz", "not an IDX file");
  const auto bad = e.run({"--quiet", "--set", "data.images=bad.gz"});
  INFO(bad.out << bad.err);
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("error: stage 'data' (idx_dataset) failed") != std::string::npos);
  CHECK(bad.err.find("[score_fast] skipped") != std::string::npos);
  CHECK(bad.err.find("[net]") == std::string::npos);  // what went well stays out
  CHECK(lines_of(bad.out).size() == 1);  // no results, only where the record is
}
