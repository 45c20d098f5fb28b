// `pipeline check-plugin FILE.so`: the testkit's conformance checks on every type one plugin
// registers, one line per failure naming the type.
#include "check_plugin.hpp"

#include <filesystem>
#include <algorithm>
#include <iostream>

#include "pipeline/testing.hpp"

namespace pipeline::cli {
namespace {

void print_notes(const testing::CheckResult& r, bool verbose) {
  if (!verbose) return;
  for (const auto& n : r.notes) std::cout << "    " << n << "\n";
}

}  // namespace

int check_plugin(const std::filesystem::path& file, const std::vector<std::string>& extra_plugin_path,
                 const std::vector<std::string>& layers, const std::vector<std::string>& stages, bool verbose) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    std::cerr << "pipeline: error: check-plugin: no such file: " << file.string() << "\n";
    return 2;
  }
  std::vector<std::filesystem::path> load = {file};
  for (const auto& p : extra_plugin_path) load.emplace_back(p);
  testing::Harness kit(load);
  if (!kit.load_errors().empty()) {
    for (const auto& e : kit.load_errors()) std::cerr << e << "\n";
    return 3;
  }
  const auto canonical = std::filesystem::weakly_canonical(file, ec);
  const testing::Harness::PluginTypes* plugin = nullptr;
  const auto plugins = kit.plugins();
  for (const auto& p : plugins)
    if (!p.file.empty() && std::filesystem::weakly_canonical(p.file, ec) == canonical) plugin = &p;
  if (!plugin) {
    std::cerr << file.string() << ": error: the file loaded but registered nothing (or another plugin of its name came first)\n";
    return 3;
  }
  std::cout << "checking plugin " << plugin->name << " " << plugin->version << " (" << file.string() << ")\n";

  int passed = 0, failed = 0;
  auto report = [&](const std::string& what, const testing::CheckResult& r) {
    if (r.ok()) {
      ++passed;
      std::string skipped;
      for (const auto& n : r.notes)
        if (n.find("not run:") != std::string::npos) skipped = n;
      std::cout << "PASS " << what << (skipped.empty() ? "" : " (schema only; " + skipped + ")") << "\n";
    } else {
      ++failed;
      std::cout << "FAIL " << what << "\n";
      for (const auto& f : r.failures) std::cout << what << ": " << f << "\n";
    }
    print_notes(r, verbose);
  };
  auto selected = [](const std::vector<std::string>& filter, const std::vector<std::string>& all,
                     const std::vector<std::string>& other_filter) {
    if (filter.empty()) return other_filter.empty() ? all : std::vector<std::string>{};
    return filter;
  };
  for (const auto& name : selected(layers, plugin->layers, stages)) {
    if (std::find(plugin->layers.begin(), plugin->layers.end(), name) == plugin->layers.end()) {
      std::cerr << "pipeline: error: plugin '" << plugin->name << "' registers no layer type '" << name << "'\n";
      return 2;
    }
    report("layer " + name, kit.check_layer_type(name));
  }
  for (const auto& name : selected(stages, plugin->stages, layers)) {
    if (std::find(plugin->stages.begin(), plugin->stages.end(), name) == plugin->stages.end()) {
      std::cerr << "pipeline: error: plugin '" << plugin->name << "' registers no stage type '" << name << "'\n";
      return 2;
    }
    report("stage " + name, kit.check_stage_type(name));
  }
  if (layers.empty() && stages.empty())
    for (const auto& name : plugin->optimizers) report("optimizer " + name, kit.check_optimizer(name));
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed ? 1 : 0;
}

}  // namespace pipeline::cli
