// The layers plugin: layer types on oneDNN and the stages that build and store models.
#include "layer_types.hpp"
#include "pipeline/plugin.hpp"
#include "stages.hpp"

namespace {
void register_layers(pipeline::Registry& registry) {
  using namespace pipeline::layers;
  for (auto info : {conv2d_layer(), maxpool2d_layer(), avgpool2d_layer(), adaptive_avgpool2d_layer(), linear_layer(),
                    flatten_layer(), dropout_layer(), batchnorm2d_layer(), sequential_layer(), residual_layer()})
    registry.add_layer(info);
  for (auto& info : activation_layers()) registry.add_layer(info);
  for (auto& info : recurrent_layers()) registry.add_layer(info);
  registry.add_stage(model_stage());
  registry.add_stage(save_model_stage());
  registry.add_stage(load_model_stage());
}
}  // namespace

PIPELINE_PLUGIN("layers", PIPELINE_VERSION_STRING, register_layers)
