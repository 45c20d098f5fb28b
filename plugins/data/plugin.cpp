// The data plugin: loaders and dataset transforms.
#include "pipeline/plugin.hpp"

#include "stages.hpp"

namespace {
void register_data_stages(pipeline::Registry& registry) {
  registry.add_stage(pipeline::data::idx_dataset_stage());
  registry.add_stage(pipeline::data::subset_stage());
  registry.add_stage(pipeline::data::dataset_stats_stage());
  registry.add_stage(pipeline::data::csv_dataset_stage());
  registry.add_stage(pipeline::data::long_tail_stage());
  registry.add_stage(pipeline::data::split_stage());
  registry.add_stage(pipeline::data::concat_stage());
  registry.add_stage(pipeline::data::image_folder_stage());
  registry.add_stage(pipeline::data::save_image_folder_stage());
}
}  // namespace

PIPELINE_PLUGIN("data", PIPELINE_VERSION_STRING, register_data_stages)
