// A plugin built for a future plugin API.
#include "pipeline/plugin.hpp"

namespace {
void register_nothing(pipeline::Registry&) {}
}  // namespace

extern "C" __attribute__((visibility("default"))) const PipelinePluginInfo pipeline_plugin_info = {
    999, "wrong_api", "1.0", PIPELINE_BUILD_ID, register_nothing};
