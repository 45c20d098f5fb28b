// A plugin whose build id says it was built with another toolchain.
#include "pipeline/plugin.hpp"

namespace {
void register_nothing(pipeline::Registry&) {}
}  // namespace

extern "C" __attribute__((visibility("default"))) const PipelinePluginInfo pipeline_plugin_info = {
    PIPELINE_PLUGIN_API_VERSION, "wrong_build", "1.0", "pipeline-0.0.0/msvc-19/msvcrt", register_nothing};
