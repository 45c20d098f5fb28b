#include "layer_support.hpp"

#include <cmath>
#include <mutex>

#include "config/yaml_reader.hpp"
#include "layer_types.hpp"
#include "pipeline/model_builder.hpp"
#include "pipeline/schema.hpp"
#include "plugin/plugin_set.hpp"

namespace test {

void register_layer_types() {
  static pipeline::PluginSet* set = [] {
    using namespace pipeline::layers;
    std::vector<pipeline::LayerInfo> layers = {conv2d_layer(), maxpool2d_layer(), avgpool2d_layer(),
                                               linear_layer(), flatten_layer(), dropout_layer(),
                                               batchnorm2d_layer(), adaptive_avgpool2d_layer(), sequential_layer(),
                                               residual_layer()};
    for (auto& l : activation_layers()) layers.push_back(l);
    for (auto& l : recurrent_layers()) layers.push_back(l);
    auto* s = new pipeline::PluginSet;  // lives for the whole test process
    s->add_builtin("layers-under-test", {}, layers);
    return s;
  }();
  (void)set;
}

std::unique_ptr<pipeline::Model> model_from_yaml(const pipeline::Shape& input, const std::string& layers_yaml) {
  register_layer_types();
  std::vector<pipeline::Error> errors;
  pipeline::Value layers = pipeline::config::parse_yaml(layers_yaml, "layers.yaml", errors);
  if (!errors.empty()) throw errors[0];
  pipeline::ThrowingDiagnostics diag;
  return pipeline::build_model(input, layers, diag);
}

std::unique_ptr<pipeline::Layer> layer_from_yaml(const std::string& type, const std::string& params_yaml,
                                                 const pipeline::Shape& input) {
  register_layer_types();
  std::vector<pipeline::Error> errors;
  pipeline::Value given = pipeline::config::parse_yaml(params_yaml, "params.yaml", errors);
  if (!errors.empty()) throw errors[0];
  const pipeline::LayerInfo* info = pipeline::find_layer_type(type);
  pipeline::ThrowingDiagnostics diag;
  pipeline::Params params = pipeline::check_params(info->params, given, type, {}, "/", diag);
  return info->create(type, params, input);
}

Mismatch compare(const float* got, const float* want, std::size_t n, double rtol, double atol) {
  Mismatch worst;
  for (std::size_t i = 0; i < n; ++i) {
    const double excess = std::fabs(double(got[i]) - want[i]) - (atol + rtol * std::fabs(double(want[i])));
    if (excess > worst.excess || std::isnan(got[i])) {
      worst = {std::isnan(got[i]) ? 1e30 : excess, i, got[i], want[i]};
    }
  }
  return worst;
}

}  // namespace test
