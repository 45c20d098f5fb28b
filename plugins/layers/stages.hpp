// The layers plugin's stage types.
#pragma once

#include "pipeline/stage.hpp"

namespace pipeline::layers {

StageInfo model_stage();
StageInfo save_model_stage();
StageInfo load_model_stage();

}  // namespace pipeline::layers
