// An experiment file: YAML reading, the sweep's expansion and every check of the planner.
#include "fuzz_support.hpp"
#include "config/yaml_reader.hpp"
#include "plan/plan.hpp"
#include "plan/sweep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& plugins = fuzz::plugins();
  fuzz::expect_clean([&] {
    std::vector<pipeline::Error> errors;
    const pipeline::Value config = pipeline::config::parse_yaml(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml", errors);
    if (!errors.empty()) return;
    pipeline::expand_sweep(config, "fuzz.yaml", errors, 1000);
    pipeline::build_plan(config, "fuzz.yaml", fuzz::scratch(), plugins);
  });
  return 0;
}
