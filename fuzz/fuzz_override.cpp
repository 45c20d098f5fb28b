// A `--set STAGE.PARAM=VALUE` override (the first line of the input) applied to a small experiment.
#include "fuzz_support.hpp"
#include "config/yaml_reader.hpp"
#include "plan/plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& plugins = fuzz::plugins();
  static const pipeline::Value config = [] {
    const std::string csv = "a,b,c,d,label\n1,2,3,4,0\n2,3,4,5,1\n3,4,5,6,2\n4,5,6,7,0\n";
    fuzz::write_file(fuzz::scratch() / "data.csv", reinterpret_cast<const std::uint8_t*>(csv.data()), csv.size());
    std::vector<pipeline::Error> errors;
    return pipeline::config::parse_yaml(R"(experiment: fuzz
seed: 0
stages:
  data: {plugin: csv_dataset, params: {path: data.csv}}
  net: {plugin: model, params: {input: [4], layers: [{linear: {name: fc, out: 3}}]}}
  fit: {plugin: train, inputs: {model: net, data: data.train}, params: {epochs: 1, lr: 0.1}}
  score: {plugin: evaluate, inputs: {model: fit, data: data.test}}
)", "fuzz.yaml", errors);
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_clean([&] {
    const pipeline::Override o = pipeline::parse_override(text.substr(0, text.find('\n')));
    pipeline::build_plan(config, "fuzz.yaml", fuzz::scratch(), plugins, {o});
  });
  return 0;
}
