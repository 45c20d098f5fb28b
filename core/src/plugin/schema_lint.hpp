// Checks of a plugin's declarations (parameter schemas, ports), shared by the loader, which
// refuses what would break validation or `inspect`, and by the testkit and `check-plugin`, which
// also report what is only poor documentation.
#pragma once

#include <string>
#include <vector>

#include "pipeline/codec.hpp"
#include "pipeline/layer.hpp"
#include "pipeline/optimizer.hpp"
#include "pipeline/stage.hpp"

namespace pipeline {

struct SchemaProblem {
  bool fatal = true;    // false: documentation only (the loader accepts it)
  std::string message;  // e.g. "parameter 'name' is reserved: the model builder takes it"
};

std::vector<SchemaProblem> stage_schema_problems(const StageInfo& info);
std::vector<SchemaProblem> layer_schema_problems(const LayerInfo& info);
std::vector<SchemaProblem> optimizer_schema_problems(const OptimizerInfo& info);
std::vector<SchemaProblem> codec_problems(const CodecInfo& info);

// A name as the YAML writes it: lowercase letters, digits and '_', starting with a letter.
bool is_identifier(const std::string& name);

}  // namespace pipeline
