// Checkpoints that torchvision writes (through tools/export_torchvision.py) of other seeds, class
// counts and input sizes than the golden file load strictly into `architecture: NAME` through the
// load_model stage and predict as torchvision does; what save_model writes back loads strictly into
// torchvision (tools/load_in_torchvision.py). Needs python3-torchvision (installed by
// `scripts/install-deps.sh --test`); without it the test says so and is skipped.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>

#include "architectures/architectures.hpp"
#include "pipeline/json.hpp"
#include "pipeline/safetensors.hpp"
#include "pipeline/testing.hpp"
#include "support/cli.hpp"
#include "support/temp_dir.hpp"

using namespace pipeline;

namespace {

bool torchvision_available() { return std::system("/usr/bin/python3 -c 'import torchvision' >/dev/null 2>&1") == 0; }

void check_export(const std::string& architecture, int classes, int seed, int height, int width) {
  INFO(architecture << ", " << classes << " classes, seed " << seed << ", input " << height << "x" << width);
  test::TempDir dir;
  const auto file = dir / "weights.safetensors";
  const std::string command = "/usr/bin/python3 " + std::string(PIPELINE_SOURCE_DIR) + "/tools/export_torchvision.py " +
                              architecture + " " + file.string() + " --classes " + std::to_string(classes) + " --seed " +
                              std::to_string(seed) + " --check " + std::to_string(height) + " " + std::to_string(width) +
                              " >/dev/null";
  REQUIRE(std::system(command.c_str()) == 0);

  testing::Harness kit;
  Value params = Value::map();
  params.set("input", parse_value("[3, " + std::to_string(height) + ", " + std::to_string(width) + "]"));
  params.set("architecture", Value::string(architecture));
  params.set("classes", Value::integer(classes));
  const auto built = kit.run_stage("model", params);
  Value load = Value::map();
  load.set("path", Value::string(file.string()));
  load.set("ignore", parse_value("[input, \"expected.*\"]"));  // strict otherwise: every tensor, both ways
  const auto loaded = kit.run_stage("load_model", load, {{"model", built.outputs.at("model")}});
  auto model = loaded.output_as<Model>("model")->clone();

  const SafetensorsFile f = read_safetensors(file);
  const SafetensorsEntry* x = f.find("input");
  const SafetensorsEntry* want = f.find("expected.logits");
  REQUIRE(x);
  REQUIRE(want);
  Tensor logits;
  model->forward(Tensor(x->shape, x->f32), logits, Mode::eval);
  REQUIRE(logits.numel() == static_cast<std::int64_t>(want->f32.size()));
  double worst = 0;
  for (std::size_t i = 0; i < want->f32.size(); ++i) {
    const double excess = std::fabs(logits.values()[i] - want->f32[i]) - (1e-5 + 1e-4 * std::fabs(want->f32[i]));
    worst = std::max(worst, excess);
  }
  CHECK(worst <= 0);
  // The same predictions, sample by sample.
  for (std::int64_t n = 0; n < logits.dim(0); ++n) {
    auto argmax = [&](const float* row) { return std::max_element(row, row + classes) - row; };
    CHECK(argmax(logits.data() + n * classes) == argmax(want->f32.data() + n * classes));
  }

  // And back: what save_model writes (num_batches_tracked included) loads into torchvision with
  // load_state_dict(strict=True) and predicts the same.
  Value save = Value::map();
  save.set("path", Value::string((dir / "saved.safetensors").string()));
  kit.run_stage("save_model", save, {{"model", loaded.outputs.at("model")}});
  const std::string back = "/usr/bin/python3 " + std::string(PIPELINE_SOURCE_DIR) + "/tools/load_in_torchvision.py " +
                           architecture + " " + std::to_string(classes) + " " + (dir / "saved.safetensors").string() + " " +
                           file.string() + " > " + (dir / "back.json").string();
  REQUIRE(std::system(back.c_str()) == 0);
  const Value torch_logits = parse_json(test::read_file(dir / "back.json"), "back.json");
  REQUIRE(torch_logits.size() == want->f32.size());
  for (std::size_t i = 0; i < want->f32.size(); ++i)
    CHECK(std::fabs(torch_logits.items()[i].as_float() - want->f32[i]) <= 1e-6 + 1e-6 * std::fabs(want->f32[i]));
}

}  // namespace

TEST_CASE("torchvision checkpoints of other seeds, classes and sizes load strictly and predict as torchvision",
          "[torchvision]") {
  if (!torchvision_available()) {
    WARN("python3-torchvision is not installed: skipped (scripts/install-deps.sh --test installs it)");
    return;
  }
  check_export("resnet18", 7, 3, 96, 80);
  check_export("resnet34", 3, 5, 64, 64);
  check_export("resnet50", 4, 6, 64, 72);
  check_export("mobilenet_v2", 5, 4, 72, 64);
}
