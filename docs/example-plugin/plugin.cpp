// An example third-party plugin in its own repository: a stage type (binarize.cpp) and a layer type
// (softsign.cpp), registered here through the one entry point.
#include <pipeline/plugin.hpp>

namespace example {
pipeline::StageInfo binarize_stage();
pipeline::LayerInfo softsign_layer();
}  // namespace example

namespace {
void register_example(pipeline::Registry& registry) {
  registry.add_stage(example::binarize_stage());
  registry.add_layer(example::softsign_layer());
}
}  // namespace

PIPELINE_PLUGIN("binarize", "1.1.0", register_example)
