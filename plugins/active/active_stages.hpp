// The active plugin's stage types: pool-based active learning as rounds of ordinary stages.
#pragma once

#include "pipeline/stage.hpp"

namespace pipeline::active {

StageInfo active_split_stage();
StageInfo active_select_stage();

}  // namespace pipeline::active
