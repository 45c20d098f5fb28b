// The example plugin's own test, on the installed testkit (Pipeline::testing): the conformance
// checks `pipeline check-plugin` runs, then tests of what this plugin promises. Plain C++: use any
// test framework you like around these calls.
#include <cstdio>
#include <cstdlib>

#include <pipeline/testing.hpp>

namespace {
int failures = 0;
void expect(bool ok, const char* what, const std::string& detail = "") {
  std::printf("%s %s\n%s", ok ? "ok  " : "FAIL", what, ok ? "" : detail.c_str());
  failures += !ok;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
    return 2;
  }
  using namespace pipeline;
  testing::Harness kit({argv[1]});  // this plugin, then the built-in ones
  expect(kit.load_errors().empty(), "the plugin loads");

  // Schema, shapes, clone and backward against finite differences, as check-plugin does.
  const testing::CheckResult layer = kit.check_layer_type("softsign");
  expect(layer.ok(), "softsign passes the layer conformance checks", layer.text());
  const testing::CheckResult stage = kit.check_stage_type("binarize");
  expect(stage.ok(), "binarize passes the stage conformance checks", stage.text());

  // The gradient check on a layer built by hand, with tighter tolerances than the default.
  auto softsign = testing::make_layer("softsign", Value::map(), {3, 4});
  testing::GradientCheckOptions tight;
  tight.rtol = 1e-3;
  const testing::CheckResult gradients = testing::check_layer_gradients(*softsign, {3, 4}, tight);
  expect(gradients.ok(), "softsign's gradients within rtol 1e-3", gradients.text());

  // What the stage promises: every pixel becomes 0 or 1, labels and size are kept.
  auto data = testing::make_dataset({1, 4, 4}, 2, 10);
  const testing::StageRun run = kit.run_stage("binarize", parse_value("{threshold: 0.3}"), {{"data", data}});
  auto out = run.output_as<Dataset>("data");
  bool binary = out && out->size() == data->size() && out->labels() == data->labels();
  for (float x : out ? out->features().values() : std::vector<float>{}) binary = binary && (x == 0.0f || x == 1.0f);
  expect(binary, "binarize outputs only 0 and 1 and keeps the labels");
  const Value* fraction = run.metrics.find("fraction_on");
  expect(fraction && fraction->as_float() > 0 && fraction->as_float() < 1, "fraction_on is recorded");

  // A bad parameter is refused before the stage runs, as `pipeline validate` would.
  bool refused = false;
  try {
    kit.run_stage("binarize", parse_value("{threshold: 2}"), {{"data", data}});
  } catch (const Error& e) {
    refused = e.message().find("threshold") != std::string::npos;
  }
  expect(refused, "threshold 2 is refused");

  std::printf("%d passed, %d failed\n", 7 - failures, failures);
  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
