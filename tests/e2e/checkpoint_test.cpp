// Checkpoints through the CLI: a saved model loads back bit-identically; PyTorch's files load
// as they are; a file that does not fit the model is refused with every problem named.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "pipeline/safetensors.hpp"
#include "support/cli.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {
const char* data_stage = R"(  data:
    plugin: idx_dataset
    params:
      images: /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
      labels: /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz
      per_class: 30
)";
const char* cnn_stage = R"(  cnn:
    plugin: model
    params:
      input: [1, 28, 28]
      layers:
        - conv2d: {name: conv1, out: 32, kernel: 3, padding: 1}
        - relu
        - maxpool2d: {kernel: 2}
        - conv2d: {name: conv2, out: 64, kernel: 3, padding: 1}
        - relu
        - maxpool2d: {kernel: 2}
        - flatten
        - linear: {name: fc1, out: 128}
        - relu
        - linear: {name: fc2, out: 10}
)";

nlohmann::json metrics_of(const fs::path& runs) {
  for (const auto& exp : fs::directory_iterator(runs))
    for (const auto& run : fs::directory_iterator(exp.path()))
      return nlohmann::json::parse(test::read_file(run.path() / "metrics.json"));
  return {};
}
}  // namespace

TEST_CASE("a saved model loads back and scores identically", "[checkpoint]") {
  test::TempDir dir;
  test::write_text(dir / "c.yaml", std::string("experiment: roundtrip\nstages:\n") + data_stage + cnn_stage + R"(
  fit: {plugin: train, inputs: {model: cnn, data: data.train}, params: {epochs: 4, batch_size: 16, lr: 0.05, momentum: 0.9}}
  save: {plugin: save_model, inputs: {model: fit}, params: {path: out/cnn.safetensors}}
  fresh: {plugin: model, params: {input: [1, 28, 28], layers: [flatten, {linear: {name: fc, out: 10}}]}}
  score_trained: {plugin: evaluate, inputs: {model: fit, data: data.train}}
)");
  auto r = test::run_cli({"run", (dir / "c.yaml").string(), "--runs-dir", (dir / "runs1").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto file = dir / "out" / "cnn.safetensors";
  const auto saved = pipeline::read_safetensors(file);
  std::vector<std::string> names;
  for (const auto& t : saved.tensors) names.push_back(t.name);
  CHECK(names == std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight",
                                          "fc1.bias", "fc2.weight", "fc2.bias"});
  CHECK(saved.find("conv2.weight")->shape == pipeline::Shape{64, 32, 3, 3});

  test::write_text(dir / "l.yaml", std::string("experiment: reload\nstages:\n") + data_stage + cnn_stage + R"(
  load: {plugin: load_model, inputs: {model: cnn}, params: {path: out/cnn.safetensors}}
  score_loaded: {plugin: evaluate, inputs: {model: load, data: data.train}}
)");
  auto l = test::run_cli({"run", (dir / "l.yaml").string(), "--runs-dir", (dir / "runs2").string()});
  INFO(l.err);
  REQUIRE(l.exit_code == 0);
  const auto before = metrics_of(dir / "runs1")["stages"]["score_trained"]["metrics"];
  const auto after = metrics_of(dir / "runs2")["stages"]["score_loaded"]["metrics"];
  CHECK(before["accuracy"].get<double>() > 0.3);  // it learned something
  CHECK(before == after);
}

TEST_CASE("PyTorch's weights load as they are and give PyTorch's logits' accuracy", "[checkpoint]") {
  const fs::path golden = test::source_dir() / ".." / "shared" / "golden" / "cnn.safetensors";
  if (!fs::exists(golden)) {
    WARN("no golden file: skipped");
    return;
  }
  test::TempDir dir;
  test::write_text(dir / "p.yaml", std::string("experiment: pytorch\nstages:\n") + data_stage + cnn_stage +
                                       "  load:\n    plugin: load_model\n    inputs: {model: cnn}\n"
                                       "    params: {path: " + golden.string() +
                                       ", ignore: [input, labels, expected.*]}\n");
  auto r = test::run_cli({"run", (dir / "p.yaml").string(), "--runs-dir", (dir / "runs").string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("loaded 8 tensors") != std::string::npos);
}

TEST_CASE("a checkpoint that does not fit the model names every problem", "[checkpoint]") {
  test::TempDir dir;
  pipeline::Tensor w({10, 784}), b({5});
  pipeline::write_safetensors(dir / "bad.safetensors", {{"fc.weight", &w}, {"fc.bias", &b}, {"head.weight", &w}});
  test::write_text(dir / "m.yaml", std::string("experiment: mismatch\nstages:\n") + R"(
  net: {plugin: model, params: {input: [1, 28, 28], layers: [flatten, {linear: {name: fc, out: 10}}, relu, {linear: {name: out, out: 3}}]}}
  load: {plugin: load_model, inputs: {model: net}, params: {path: bad.safetensors}}
)");
  auto r = test::run_cli({"run", (dir / "m.yaml").string(), "--runs-dir", (dir / "runs").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("bad.safetensors does not fit the model:") != std::string::npos);
  CHECK(r.err.find("tensor 'fc.bias' has shape [5], the model's fc.bias is [10]") != std::string::npos);
  CHECK(r.err.find("missing tensor 'out.weight'") != std::string::npos);
  CHECK(r.err.find("missing tensor 'out.bias'") != std::string::npos);
  CHECK(r.err.find("unexpected tensor 'head.weight'") != std::string::npos);
}
