// The plugin entry point. A plugin library defines exactly one, with PIPELINE_PLUGIN:
//
//   static void register_stages(pipeline::Registry& r) { r.add_stage(...); r.add_layer(...); }
//   PIPELINE_PLUGIN("my_plugin", "1.0.0", register_stages)
//
// The loader reads the struct, refuses a wrong API version or build id (naming both values), then
// calls register_plugin.
#pragma once

#include <cstdint>
#include <string>

#include "pipeline/codec.hpp"
#include "pipeline/layer.hpp"
#include "pipeline/optimizer.hpp"
#include "pipeline/stage.hpp"
#include "pipeline/version.hpp"

namespace pipeline {

class Registry {
 public:
  virtual ~Registry();
  virtual void add_stage(StageInfo info) = 0;
  virtual void add_layer(LayerInfo info) = 0;
  virtual void add_optimizer(OptimizerInfo info) = 0;
  virtual void add_codec(CodecInfo info) = 0;
};

}  // namespace pipeline

extern "C" {
// Layout is frozen for a given API version; api_version comes first so any future layout can be
// recognised before the rest is read.
struct PipelinePluginInfo {
  std::uint32_t api_version;
  const char* name;
  const char* version;
  const char* build_id;
  void (*register_plugin)(pipeline::Registry&);
};
}

#define PIPELINE_PLUGIN_ENTRY_SYMBOL "pipeline_plugin_info"

#define PIPELINE_PLUGIN(NAME, VERSION, REGISTER_FN)                                 \
  extern "C" __attribute__((visibility("default"))) const PipelinePluginInfo        \
      pipeline_plugin_info = {PIPELINE_PLUGIN_API_VERSION, NAME, VERSION, PIPELINE_BUILD_ID, \
                              REGISTER_FN};
