// The ResNet flagship end to end on a small image folder the test builds from Fashion-MNIST PNGs
// (pipelines/make_fashion_folder.yaml with its test line): both examples run with their `# test:`
// arguments, the folder paths pointed at the test's own copy.
#include <catch2/catch.hpp>

#include "support/cli.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

TEST_CASE("the ResNet-18 flagship runs on an image folder built from Fashion-MNIST PNGs", "[pipelines][resnet]") {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
    WARN("no Fashion-MNIST: skipped");
    return;
  }
  const fs::path pipelines = test::source_dir() / "pipelines";
  test::TempDir tmp, runs;
  std::vector<std::string> make = {"run", (pipelines / "make_fashion_folder.yaml").string(), "--runs-dir", runs.path().string()};
  for (auto& a : test::example_test_args(pipelines / "make_fashion_folder.yaml", tmp.path())) make.push_back(a);
  const auto made = test::run_cli(make);
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  REQUIRE(fs::exists(tmp / "fashion_folder" / "train" / "005_5" / "000000.png"));

  std::vector<std::string> paths = {"--set", "source.path=" + (tmp / "fashion_folder" / "train").string(),
                                    "--set", "target.path=" + (tmp / "fashion_folder" / "train").string(),
                                    "--set", "target_test.path=" + (tmp / "fashion_folder" / "test").string()};
  std::vector<std::string> validate = {"validate", (pipelines / "resnet_transfer.yaml").string()};
  validate.insert(validate.end(), paths.begin(), paths.end());
  CHECK(test::run_cli(validate).exit_code == 0);

  std::vector<std::string> run = {"run", (pipelines / "resnet_transfer.yaml").string(), "--runs-dir", runs.path().string(),
                                  "--cache-dir", (tmp / "cache").string()};
  run.insert(run.end(), paths.begin(), paths.end());
  for (auto& a : test::example_test_args(pipelines / "resnet_transfer.yaml", tmp.path())) run.push_back(a);
  const auto r = test::run_cli(run);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // The comparison table is the result: on stdout, a row per arm.
  for (const char* arm : {"\nscratch ", "\nfeature_extraction ", "\nfinetune "}) CHECK(r.out.find(arm) != std::string::npos);
  // The feature-extraction arm trained fc on the frozen backbone's cached outputs.
  CHECK(r.err.find("[features] caching the outputs of the frozen layers before 'fc'") != std::string::npos);
  CHECK(r.err.find("[pretrain] layer") == std::string::npos);  // models are logged by their model stages only
}
