// The train plugin's stage types.
#pragma once

#include "pipeline/stage.hpp"

namespace pipeline::train {

StageInfo train_stage();
StageInfo evaluate_stage();

}  // namespace pipeline::train
