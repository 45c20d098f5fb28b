// `pipeline check-plugin`: conformance checks of one plugin file (see pipeline/testing.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace pipeline::cli {

// Loads `file` (then `extra_plugin_path` and the built-in plugins) and checks every type it
// registers, or only the named layer and stage types. Prints a PASS/FAIL line per type and one
// line per failure; returns 0 when all pass, 1 on a failure, 2 on a usage error, 3 when a plugin
// does not load.
int check_plugin(const std::filesystem::path& file, const std::vector<std::string>& extra_plugin_path,
                 const std::vector<std::string>& layers, const std::vector<std::string>& stages, bool verbose);

}  // namespace pipeline::cli
