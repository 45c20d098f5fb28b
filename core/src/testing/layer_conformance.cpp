// Harness::check_layer_type: a layer type's schema, shapes, clone() and gradients.
#include <algorithm>
#include <cmath>

#include "pipeline/extensions.hpp"
#include "pipeline/model.hpp"
#include "pipeline/rng.hpp"
#include "plugin/schema_lint.hpp"
#include "testing/harness_impl.hpp"

namespace pipeline::testing {
namespace {

struct Example {
  Value params;
  Shape input;
  bool declared;
};

// A value for a required parameter that its schema admits, or null when none can be guessed.
Value conventional_value(const ParamSpec& p) {
  auto clamp = [&](double v) {
    if (p.min) v = std::max(v, *p.min);
    if (p.max) v = std::min(v, *p.max);
    return v;
  };
  switch (p.type) {
    case ParamType::integer: return Value::integer(static_cast<std::int64_t>(std::ceil(clamp(2))));
    case ParamType::real: return Value::real(clamp(0.5));
    case ParamType::boolean: return Value::boolean(false);
    case ParamType::enumeration: {
      const auto choices = p.registered.empty() ? p.choices : registered_names(p.registered);
      return choices.empty() ? Value() : Value::string(choices.front());
    }
    default: return Value();
  }
}

std::vector<Example> examples_of(const LayerInfo& info, CheckResult& result) {
  std::vector<Example> out;
  for (const auto& e : info.examples) out.push_back({e.params, e.input, true});
  if (!out.empty()) return out;
  Value params = Value::map();
  for (const auto& p : info.params) {
    if (!p.required()) continue;
    Value v = conventional_value(p);
    if (v.is_null()) {
      result.note("no conventional value for required parameter '" + p.name + "'");
      return out;
    }
    params.set(p.name, v);
  }
  for (const Shape& shape : {Shape{3, 6, 6}, Shape{5, 4}, Shape{6}}) out.push_back({params, shape, false});
  return out;
}

bool close(const Tensor& a, const Tensor& b, double rtol, double atol, std::size_t& at) {
  if (a.shape() != b.shape()) return false;
  for (std::size_t i = 0; i < a.values().size(); ++i) {
    const double x = a.values()[i], y = b.values()[i];
    if (!(std::fabs(x - y) <= atol + rtol * std::fabs(y))) {
      at = i;
      return false;
    }
  }
  return true;
}

Tensor forward(Layer& layer, const Tensor& x, Mode mode) {
  Tensor y;
  layer.forward(x, y, mode);
  return y;
}

void check_clone(Layer& layer, const Tensor& x, CheckResult& result) {
  const Tensor before = forward(layer, x, Mode::eval);
  std::unique_ptr<Layer> copy = layer.clone();
  if (!copy) {
    result.fail("clone: returned nothing");
    return;
  }
  if (copy->type() != layer.type() || copy->name() != layer.name())
    result.fail("clone: type or name differs ('" + copy->type() + "' '" + copy->name() + "')");
  if (copy->spec().canonical_json() != layer.spec().canonical_json())
    result.fail("clone: spec() differs from the original's (" + copy->spec().str() + " vs " + layer.spec().str() +
                "): a cached model could not be rebuilt");
  // Every parameter of the layer and of the layers inside it (a block), in the same order.
  auto all_params = [](Layer& l) {
    std::vector<Parameter*> out;
    visit_layers(l, "", 0, [&](const std::string&, Layer& m, int) {
      for (auto& p : m.parameters()) out.push_back(&p);
    });
    return out;
  };
  const auto original = all_params(layer), copied = all_params(*copy);
  if (copied.size() != original.size()) {
    result.fail("clone: " + std::to_string(copied.size()) + " parameters, the original has " + std::to_string(original.size()));
    return;
  }
  for (std::size_t k = 0; k < original.size(); ++k) {
    const auto& a = *original[k];
    const auto& b = *copied[k];
    if (a.name != b.name || a.value.values() != b.value.values() || a.trainable != b.trainable || a.buffer != b.buffer)
      result.fail("clone: parameter '" + a.name + "' differs from the original's");
  }
  std::size_t at = 0;
  if (!close(forward(*copy, x, Mode::eval), before, 0, 0, at))
    result.fail("clone: evaluates differently from the original (at index " + std::to_string(at) + ")");
  // Deep: changing the original's parameters leaves the copy alone.
  for (Parameter* p : original)
    for (float& v : p->value.values()) v += 1.0f;
  bool shared = false;
  for (std::size_t k = 0; k < original.size(); ++k)
    shared = shared || (original[k]->value.numel() > 0 && copied[k]->value.values() == original[k]->value.values());
  if (shared) result.fail("clone: shares parameter storage with the original (not a deep copy)");
  if (!close(forward(*copy, x, Mode::eval), before, 0, 0, at))
    result.fail("clone: its output changed when the original's parameters did (not a deep copy)");
}

CheckResult check_example(const std::string& type, const Example& e, const GradientCheckOptions& options) {
  CheckResult result;
  std::unique_ptr<Layer> layer = make_layer(type, e.params, e.input, options.seed);
  Shape out;
  try {
    out = layer->output_shape(e.input);
  } catch (const std::exception& ex) {
    result.fail(std::string("output_shape: throws for the input it was created for: ") + ex.what());
    return result;
  }
  Rng rng(options.seed);
  Shape batch_shape = e.input;
  batch_shape.insert(batch_shape.begin(), options.batch);
  Tensor x(batch_shape);
  for (float& v : x.values()) v = rng.uniform(-1.0f, 1.0f);
  Shape expected = out;
  expected.insert(expected.begin(), options.batch);
  const Tensor train = forward(*layer, x, Mode::train);
  const Tensor again = forward(*layer, x, Mode::train);
  const Tensor eval = forward(*layer, x, Mode::eval);
  if (train.shape() != expected || eval.shape() != expected) {
    result.fail("forward: output " + to_string(train.shape()) + " (train), " + to_string(eval.shape()) +
                " (eval), but output_shape says " + to_string(expected));
    return result;
  }
  std::size_t at = 0;
  const bool deterministic = close(train, again, 0, 0, at);
  if (layer->same_in_training_and_evaluation() && !close(train, eval, 1e-5, 1e-6, at))
    result.fail("forward: train and eval differ at index " + std::to_string(at) +
                ", but same_in_training_and_evaluation() says they agree (a cached frozen prefix would be wrong)");
  check_clone(*layer, x, result);
  if (!deterministic) {
    result.note("forward in training is random: gradients not checked");
    return result;
  }
  std::unique_ptr<Layer> fresh = make_layer(type, e.params, e.input, options.seed);
  result.merge(check_layer_gradients(*fresh, e.input, options));
  if (find_layer_type(type)->reference) {
    ReferenceCheckOptions reference;
    reference.batch = options.batch;
    reference.seed = options.seed;
    for (Precision precision : {Precision::f32, Precision::bf16})
      result.merge(check_layer_against_reference(type, e.params, e.input, precision, reference));
  }
  return result;
}

}  // namespace

CheckResult Harness::check_layer_type(const std::string& type, const GradientCheckOptions& options) {
  CheckResult result;
  const LayerInfo* info = find_layer_type(type);
  if (!info) {
    result.fail("no layer type '" + type + "' is registered");
    return result;
  }
  for (const auto& p : layer_schema_problems(*info)) result.fail("schema: " + p.message);
  int checked = 0;
  std::size_t index = 0;
  for (const Example& e : examples_of(*info, result)) {
    ++index;
    const std::string label = (e.declared ? "example " + std::to_string(index) : std::string("conventional")) + " (" +
                              e.params.str() + " on " + to_string(e.input) + "): ";
    try {
      make_layer(type, e.params, e.input, options.seed);
    } catch (const std::exception& ex) {
      // A conventional shape the layer does not admit is no failure; a declared example is.
      if (e.declared) result.fail(label + "cannot create the layer: " + ex.what());
      continue;
    }
    ++checked;
    try {
      CheckResult one = check_example(type, e, options);
      result.merge(one, label);
      if (one.ok()) result.note(label + "ok");
    } catch (const std::exception& ex) {
      result.fail(label + "threw: " + ex.what());
    }
  }
  if (checked == 0) result.fail("no example to check: declare LayerInfo::examples (parameters and an input shape)");
  return result;
}

}  // namespace pipeline::testing
