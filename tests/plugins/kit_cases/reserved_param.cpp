// A layer type whose schema cannot work: a parameter named `name` (the model builder's) and a
// default outside its own range. The loader refuses it, naming the type.
#include "pipeline/sdk.hpp"

namespace {

using namespace pipeline;

void register_reserved(Registry& r) {
  LayerInfo info;
  info.name = "reserved_param";
  info.doc = "declares what it must not";
  info.params = {param_string("name", "clashes with the layer's name", std::string("x")),
                 param_float("alpha", "a rate in [0, 1]", 2.0).range(0, 1)};
  info.create = [](const std::string&, const Params&, const Shape&) -> std::unique_ptr<Layer> { return nullptr; };
  r.add_layer(info);
}

}  // namespace

PIPELINE_PLUGIN("reserved_param", "1.0", register_reserved)
