// YAML text → Value tree with file:line:col on every node and key. yaml-cpp neither types scalars
// (YAML 1.2 core schema is applied here) nor detects duplicate keys (reported here).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/error.hpp"
#include "pipeline/value.hpp"

namespace pipeline::config {

// Parses a YAML document. Syntax errors and duplicate keys are appended to `errors`; on a syntax
// error the result is null. `label` is the file name used in locations.
Value parse_yaml(const std::string& text, const std::string& label, std::vector<Error>& errors);

// Reads and parses a file; an unreadable file is an io error.
Value read_yaml_file(const std::filesystem::path& file, const std::string& label,
                     std::vector<Error>& errors);

// The type a plain (unquoted) scalar has under the YAML 1.2 core schema.
Value typed_scalar(const std::string& text, bool quoted);

}  // namespace pipeline::config
