// Which modules a freeze or unfreeze stage acts on: by glob over module paths ("layer1.*", "conv1",
// "layer4.1.bn2"), by index range of top-level layers, or all but the last N top-level layers that
// have parameters.
#pragma once

#include <vector>

#include "pipeline/model.hpp"
#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace pipeline::transfer {

std::vector<ParamSpec> selection_params();
// At least one selector given; a range has two ends in order.
void check_selection(const Params& params, Diagnostics& diagnostics);
struct SelectedModule {
  std::string path;
  Layer* layer;
};
// The outermost selected modules, in model order (a block stands for everything inside it); an
// error names a glob or index that matches nothing.
std::vector<SelectedModule> select_modules(Model& model, const Params& params);

}  // namespace pipeline::transfer
