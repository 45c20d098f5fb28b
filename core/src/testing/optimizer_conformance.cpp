// Harness::check_optimizer: an optimizer descends a quadratic, leaves frozen parameters and buffers
// alone, and repeats exactly.
#include <algorithm>
#include <tuple>

#include "pipeline/schema.hpp"
#include "plugin/schema_lint.hpp"
#include "testing/harness_impl.hpp"

namespace pipeline::testing {
namespace {

class Collect : public Diagnostics {
 public:
  void error(const Location&, const std::string& message) override { messages.push_back(message); }
  std::vector<std::string> messages;
};

Parameter parameter(std::vector<float> values) {
  Parameter p;
  p.name = "w";
  const auto n = static_cast<std::int64_t>(values.size());
  p.value = Tensor({n}, std::move(values));
  p.grad = Tensor({n});
  return p;
}

double half_square(const Parameter& p) {
  double s = 0;
  for (float v : p.value.values()) s += 0.5 * v * v;
  return s;
}

struct Trajectory {
  std::vector<float> trained, frozen, buffer, unscaled;
  double before = 0, after = 0;
};

// 20 steps on L = |w|^2 / 2 (gradient w), with a frozen parameter, a buffer and an lr scale of 0.
Trajectory descend(const OptimizerInfo& info, const Params& params) {
  Parameter w = parameter({1.0f, -2.0f, 0.5f, 3.0f}), frozen = parameter({1.0f, 2.0f}), buffer = parameter({3.0f}),
            unscaled = parameter({4.0f});
  frozen.trainable = false;
  buffer.buffer = true;
  std::unique_ptr<Optimizer> optimizer = info.create(params);
  if (!optimizer) throw Error(ErrorCode::internal, "create returned nothing");
  optimizer->add(&w, 1.0);
  optimizer->add(&frozen, 1.0);
  optimizer->add(&buffer, 1.0);
  optimizer->add(&unscaled, 0.0);
  Trajectory t;
  t.before = half_square(w);
  for (int step = 0; step < 20; ++step) {
    for (Parameter* p : {&w, &frozen, &buffer, &unscaled}) p->grad.values() = p->value.values();
    optimizer->step(0.05);
  }
  t.after = half_square(w);
  t.trained = w.value.values();
  t.frozen = frozen.value.values();
  t.buffer = buffer.value.values();
  t.unscaled = unscaled.value.values();
  return t;
}

}  // namespace

CheckResult Harness::check_optimizer(const std::string& name) {
  CheckResult result;
  const OptimizerInfo* info = find_optimizer(name);
  if (!info) {
    result.fail("no optimizer '" + name + "' is registered");
    return result;
  }
  for (const auto& p : optimizer_schema_problems(*info)) result.fail("schema: " + p.message);
  Collect diag;
  const Params params = check_params(info->params, Value::map(), "optimizer " + name, {}, "/", diag);
  if (diag.messages.empty() && info->check) info->check(params, diag);
  for (const auto& m : diag.messages) result.fail("defaults: " + m);
  if (!result.ok()) return result;
  try {
    const Trajectory a = descend(*info, params), b = descend(*info, params);
    if (!(a.after < a.before))
      result.fail("20 steps at lr 0.05 do not decrease |w|^2/2 (from " + std::to_string(a.before) + " to " +
                  std::to_string(a.after) + ")");
    if (a.frozen != std::vector<float>{1.0f, 2.0f}) result.fail("changed a parameter that is not trainable");
    if (a.buffer != std::vector<float>{3.0f}) result.fail("changed a buffer (running statistics are not trained)");
    if (a.unscaled != std::vector<float>{4.0f}) result.fail("changed a parameter whose learning-rate scale is 0");
    if (a.trained != b.trained) result.fail("two runs from the same start give different parameters");
    result.note("descends a quadratic with its defaults (" + params.all().str() + "), repeats exactly");
  } catch (const std::exception& e) {
    result.fail(std::string("threw: ") + e.what());
  }
  return result;
}

CheckResult Harness::check_plugin(const std::string& plugin_name, const std::vector<std::string>& layers,
                                  const std::vector<std::string>& stages) {
  CheckResult result;
  const auto all = plugins();
  auto it = std::find_if(all.begin(), all.end(), [&](const PluginTypes& p) { return p.name == plugin_name; });
  if (it == all.end()) {
    result.fail("no plugin '" + plugin_name + "' is loaded");
    return result;
  }
  const bool filtered = !layers.empty() || !stages.empty();
  auto wanted = [&](const std::vector<std::string>& filter, const std::string& name) {
    return !filtered || std::find(filter.begin(), filter.end(), name) != filter.end();
  };
  for (const auto& [filter, registered, kind] :
       {std::tuple{&layers, &it->layers, "layer type"}, std::tuple{&stages, &it->stages, "stage type"}})
    for (const auto& name : *filter)
      if (std::find(registered->begin(), registered->end(), name) == registered->end())
        result.fail("plugin '" + plugin_name + "' registers no " + kind + " '" + name + "'");
  for (const auto& name : it->layers)
    if (wanted(layers, name)) result.merge(check_layer_type(name), "layer " + name + ": ");
  for (const auto& name : it->stages)
    if (wanted(stages, name)) result.merge(check_stage_type(name), "stage " + name + ": ");
  if (!filtered)
    for (const auto& name : it->optimizers) result.merge(check_optimizer(name), "optimizer " + name + ": ");
  return result;
}

}  // namespace pipeline::testing
