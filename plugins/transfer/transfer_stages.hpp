// The transfer plugin's stage types.
#pragma once

#include "pipeline/stage.hpp"

namespace pipeline::transfer {

StageInfo freeze_stage();
StageInfo unfreeze_stage();
StageInfo replace_head_stage();
StageInfo truncate_stage();
StageInfo finetune_stage();
StageInfo compare_stage();
StageInfo embed_stage();

}  // namespace pipeline::transfer
