// Which layers a freeze or unfreeze stage acts on: by name glob, by index range, or all but the
// last N layers that have parameters.
#pragma once

#include <vector>

#include "pipeline/model.hpp"
#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace pipeline::transfer {

std::vector<ParamSpec> selection_params();
// At least one selector given; a range has two ends in order.
void check_selection(const Params& params, Diagnostics& diagnostics);
// Indices of the selected layers; an error names a glob or index that matches nothing.
std::vector<std::size_t> select_layers(const Model& model, const Params& params);

}  // namespace pipeline::transfer
