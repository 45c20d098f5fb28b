// Checks the parameters given to one stage against its schema and produces checked Params.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace pipeline {

// `given` is the stage's `params:` map (or null); `context` names the stage in messages, e.g.
// "stage 'src' (idx_dataset)"; `where` locates the stage when a required parameter is missing.
Params check_params(const std::vector<ParamSpec>& schema, const Value& given,
                    const std::string& context, const Location& where,
                    const std::filesystem::path& base_dir, Diagnostics& diagnostics);

// Checks one value against a spec; returns the value converted to the declared type (ints to
// floats, scalars to strings, paths resolved), or null after reporting a problem.
Value check_value(const ParamSpec& spec, const Value& value, const std::string& context,
                  const std::filesystem::path& base_dir, Diagnostics& diagnostics);

}  // namespace pipeline
