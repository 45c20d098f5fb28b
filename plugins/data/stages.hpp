// The data plugin's stage types.
#pragma once

#include "pipeline/stage.hpp"

namespace pipeline::data {

StageInfo idx_dataset_stage();
StageInfo subset_stage();
StageInfo dataset_stats_stage();
StageInfo csv_dataset_stage();
StageInfo long_tail_stage();
StageInfo split_stage();
StageInfo concat_stage();
StageInfo image_folder_stage();
StageInfo save_image_folder_stage();

// Shared schema checks: a class list without duplicates.
void check_unique_classes(const Params& params, Diagnostics& diagnostics);

}  // namespace pipeline::data
